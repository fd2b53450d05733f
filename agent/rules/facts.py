"""What rules see of an interaction: rows read from drafts or from the store, turned into engine ``Event`` values.

The pipeline hook builds ``MailRow`` values from the batch's drafts (with the parsed headers, so auto-replies and
our own rule mails are known); simulate and the fire-time re-check read the same rows from the store. Both go
through ``event_for``, so the live engine and simulate see identical facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.records import InteractionDraft, ParsedEmail
from agent.rules.amounts import Amount, best_total
from agent.rules.conditions import InteractionFacts, ParticipantFacts
from agent.rules.engine import RULE_MESSAGE_ID_PREFIX, Event, Person
from agent.store.models import Interaction, Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.models_rules import RuleFiring
from agent.store.sql import chunks

_RECIPIENT_ROLES = ("to", "cc", "bcc")


@dataclass(frozen=True, slots=True)
class PartRow:
    address: str
    role: str
    name: str = ""
    is_internal: bool = False
    contact_id: int | None = None
    company_id: int | None = None


@dataclass(frozen=True)
class MailRow:
    """An interaction as rules read it; the flags say why an inbound mail would not count as a reply."""

    interaction_id: int | None
    identity_key: str
    kind: str
    occurred_at: datetime
    direction: str
    thread_key: str
    subject: str = ""
    snippet: str = ""
    body: str = ""
    message_id: str | None = None
    ends_at: datetime | None = None
    status: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    participants: tuple[PartRow, ...] = ()
    auto_reply: bool = False
    bounce: bool = False
    own_rule_mail: bool = False

    @property
    def counts_as_reply(self) -> bool:
        return (self.kind == "email" and self.direction == "in"
                and not (self.auto_reply or self.bounce or self.own_rule_mail))

    @property
    def not_a_reply_reason(self) -> str:
        if self.own_rule_mail:
            return "sent by a rule (X-CRM-Agent-Rule): our own mail never counts as a reply"
        if self.auto_reply:
            return "auto-reply: does not count as a reply"
        if self.bounce:
            return "bounce: does not count as a reply"
        return ""


# ------------------------------------------------------------------------------------------------ flags


def is_rule_message_id(message_id: str | None) -> bool:
    return bool(message_id) and message_id.startswith(RULE_MESSAGE_ID_PREFIX)


def mail_flags(parsed: ParsedEmail | None, message_id: str | None) -> tuple[bool, bool, bool]:
    """(auto-reply, bounce, sent by one of our rules) for a parsed mail."""
    own = is_rule_message_id(message_id)
    if parsed is None:
        return False, False, own
    own = own or parsed.header("x-crm-agent-rule") is not None
    return _is_auto_reply(parsed), _is_bounce(parsed), own


def _is_auto_reply(parsed: ParsedEmail) -> bool:
    try:  # the noise filter's own judgement when it offers one, so both always agree
        from agent.pipeline.noise import is_auto_reply
    except ImportError:
        is_auto_reply = None
    if is_auto_reply is not None:
        return bool(is_auto_reply(parsed))
    # RFC 3834 and the de-facto headers of Exchange and common responders.
    auto = (parsed.header("auto-submitted") or "no").strip().lower()
    return auto != "no" or any(parsed.header(h) is not None for h in ("x-autoreply", "x-autorespond")) or \
        (parsed.header("precedence") or "").strip().lower() == "auto_reply"


def _is_bounce(parsed: ParsedEmail) -> bool:
    try:
        from agent.pipeline.noise import is_bounce
    except ImportError:
        is_bounce = None
    if is_bounce is not None:
        return bool(is_bounce(parsed))
    report = "report-type=delivery-status" in (parsed.header("content-type") or "").lower().replace(" ", "")
    return report or parsed.header("x-failed-recipients") is not None


# ------------------------------------------------------------------------------------------------ rows


def row_from_draft(draft: InteractionDraft, interaction_id: int | None, parsed: ParsedEmail | None) -> MailRow:
    auto, bounce, own = mail_flags(parsed, draft.message_id)
    details = dict(draft.details)
    body = draft.body or (parsed.body if parsed else "")
    snippet = draft.snippet or (parsed.snippet if parsed else "")
    subject = draft.subject or (parsed.subject if parsed else "")
    if parsed is not None and parsed.attachments and "attachments" not in details:
        details["attachments"] = list(parsed.attachments)
    parts = tuple(PartRow(p.address, p.role.value, p.name, p.is_internal, p.contact_id, p.company_id)
                  for p in draft.participants)
    return MailRow(interaction_id, draft.identity_key, draft.kind, draft.occurred_at, draft.direction.value,
                   draft.thread_key, subject, snippet, body, draft.message_id, draft.ends_at, draft.status, details,
                   parts, auto, bounce, own)


def not_a_reply_ids(session: Session, interaction_ids: Iterable[int]) -> set[int]:
    """Interactions the pipeline hook recorded as not counting as replies (auto-replies, our own mails)."""
    found: set[int] = set()
    for part in chunks(list(interaction_ids), 500):
        found.update(session.scalars(select(RuleFiring.interaction_id).where(
            RuleFiring.decision == "not-a-reply", RuleFiring.interaction_id.in_(part))))
    return found


_ROW_COLUMNS = (Interaction.id, Interaction.identity_key, Interaction.kind, Interaction.occurred_at,
                Interaction.direction, Interaction.thread_key, Interaction.subject, Interaction.snippet,
                Interaction.body, Interaction.message_id, Interaction.ends_at, Interaction.status, Interaction.details)


def load_rows(session: Session, interaction_ids: Sequence[int]) -> dict[int, MailRow]:
    """Stored interactions as MailRows (with participants and reply flags), by id; columns only, no ORM objects,
    so replaying a large history stays fast."""
    ids = list(dict.fromkeys(interaction_ids))
    parts: dict[int, list[PartRow]] = {}
    for part in chunks(ids, 500):
        for iid, address, role, name, internal, contact_id, company_id in session.execute(
                select(Participant.interaction_id, Participant.address, Participant.role, Participant.name,
                       Participant.is_internal, Participant.contact_id, Participant.company_id)
                .where(Participant.interaction_id.in_(part)).order_by(Participant.id)):
            parts.setdefault(iid, []).append(PartRow(address, role, name, internal, contact_id, company_id))
    flagged = not_a_reply_ids(session, ids)
    rows: dict[int, MailRow] = {}
    for part in chunks(ids, 500):
        for (iid, key, kind, at, direction, thread, subject, snippet, body, mid, ends, status,
             details) in session.execute(select(*_ROW_COLUMNS).where(Interaction.id.in_(part))):
            details = details or {}
            own = is_rule_message_id(mid) or bool(details.get("rule_mail"))
            rows[iid] = MailRow(iid, key, kind, at, direction, thread, subject, snippet, body, mid, ends, status,
                                details, tuple(parts.get(iid, ())), auto_reply=(iid in flagged and not own)
                                or bool(details.get("auto_reply")), own_rule_mail=own)
    return rows


# ------------------------------------------------------------------------------------------------ people


@dataclass
class Directory:
    """Contacts and companies of a set of events, loaded in a few queries."""

    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, rows: Iterable[MailRow], contact_ids: Iterable[int] = ()) -> Directory:
        wanted_contacts = {p.contact_id for r in rows for p in r.participants if p.contact_id} | set(contact_ids)
        directory = cls()
        directory.add_contacts(session, wanted_contacts)
        wanted_companies = {p.company_id for r in rows for p in r.participants if p.company_id}
        wanted_companies |= {c["company_id"] for c in directory.contacts.values() if c["company_id"]}
        directory.add_companies(session, wanted_companies)
        return directory

    def add_contacts(self, session: Session, ids: Iterable[int]) -> None:
        missing = [i for i in ids if i not in self.contacts]
        for part in chunks(missing, 500):
            for c in session.scalars(select(Contact).where(Contact.id.in_(part))):
                self.contacts[c.id] = contact_values(c)
            for contact_id, address in session.execute(
                select(ContactAddress.contact_id, ContactAddress.address).where(ContactAddress.contact_id.in_(part))
                .order_by(ContactAddress.is_primary.desc(), ContactAddress.id)
            ):
                self.contacts[contact_id].setdefault("email", address)

    def add_companies(self, session: Session, ids: Iterable[int]) -> None:
        missing = [i for i in ids if i and i not in self.companies]
        for part in chunks(missing, 500):
            for c in session.scalars(select(Company).where(Company.id.in_(part))):
                details = c.details or {}
                self.companies[c.id] = {"name": c.name, "status": str(details.get("status", "")),
                                        "tags": tuple(details.get("tags", ())), "domain": ""}
            for company_id, domain in session.execute(
                select(CompanyDomain.company_id, CompanyDomain.domain).where(CompanyDomain.company_id.in_(part))
                .order_by(CompanyDomain.id)
            ):
                if not self.companies[company_id]["domain"]:
                    self.companies[company_id]["domain"] = domain

    def company_of(self, person: Person | None) -> dict[str, Any] | None:
        if person is None:
            return None
        company_id = person.company_id
        if company_id is None and person.contact_id in self.contacts:
            company_id = self.contacts[person.contact_id]["company_id"]
        return self.companies.get(company_id) if company_id else None


def contact_values(c: Contact) -> dict[str, Any]:
    name = c.display_name or " ".join(part for part in (c.first_name, c.last_name) if part)
    return {"name": name, "first_name": c.first_name, "last_name": c.last_name, "status": c.status,
            "phone": c.phone, "title": c.title, "tags": tuple(c.tags or ()), "company_id": c.company_id,
            "created_at": c.created_at}


def participant_facts(parts: Iterable[PartRow], directory: Directory) -> tuple[ParticipantFacts, ...]:
    facts = []
    for p in parts:
        contact = directory.contacts.get(p.contact_id) if p.contact_id else None
        company_id = p.company_id or (contact["company_id"] if contact else None)
        company = directory.companies.get(company_id) if company_id else None
        tags = (*(contact["tags"] if contact else ()), *(company["tags"] if company else ()))
        facts.append(ParticipantFacts(p.address, (contact["name"] if contact else "") or p.name,
                                      company["name"] if company else "", contact["status"] if contact else "",
                                      tuple(str(t) for t in tags), p.is_internal, p.role))
    return tuple(facts)


# ------------------------------------------------------------------------------------------------ events


def amount_of(row: MailRow) -> Amount | None:
    """The mail's best total, from what the account's visibility keeps (body, else snippet)."""
    return best_total(row.body) if row.body else best_total(row.snippet) if row.snippet else None


def amount_dict(amount: Amount | None) -> dict[str, str] | None:
    if amount is None:
        return None
    return {"value": str(amount.value), "currency": amount.currency, "tax": amount.tax, "text": amount.text}


def _person(part: PartRow) -> Person:
    return Person(part.address, part.name, part.contact_id, part.company_id)


def pick_people(row: MailRow) -> tuple[Person | None, Person | None]:
    """(contact, sender): the external person the mail is about and the internal person on our side."""
    senders = [p for p in row.participants if p.role in ("from", "organizer")]
    recipients = sorted((p for p in row.participants if p.role in (*_RECIPIENT_ROLES, "attendee")),
                        key=lambda p: (p.role != "to", p.role == "bcc"))
    if row.kind == "meeting":  # the organizer is ours or theirs; attendees are on both sides
        outside = inside = [*senders, *recipients]
    elif row.direction == "in":
        outside, inside = senders, recipients
    else:
        outside, inside = recipients, senders
    external = [p for p in outside if not p.is_internal] or [p for p in row.participants if not p.is_internal]
    internal = [p for p in inside if p.is_internal] or [p for p in row.participants if p.is_internal]
    contact = next((p for p in external if p.contact_id), external[0] if external else None)
    sender = internal[0] if internal else None
    return (_person(contact) if contact else None), (_person(sender) if sender else None)


def event_name(row: MailRow) -> str | None:
    if row.kind == "meeting":
        return "meeting.ended" if row.status.upper() != "CANCELLED" else None
    if row.kind != "email":
        return None
    return {"out": "email.sent", "in": "email.received"}.get(row.direction)


def event_for(row: MailRow, directory: Directory) -> Event | None:
    """The rule event an interaction stands for (None for internal mail and cancelled meetings)."""
    name = event_name(row)
    if name is None:
        return None
    amount = amount_of(row) if row.kind == "email" else None
    attachments = tuple(str(a) for a in row.details.get("attachments", ()))
    facts = InteractionFacts(
        kind=row.kind, direction=row.direction, subject=row.subject, body=row.body, snippet=row.snippet,
        attachments=attachments, participants=participant_facts(row.participants, directory), amount=amount,
        is_auto_reply=row.auto_reply, is_bounce=row.bounce, is_own_rule_mail=row.own_rule_mail,
    )
    contact, sender = pick_people(row)
    at = (row.ends_at or row.occurred_at) if row.kind == "meeting" else row.occurred_at
    payload = {"identity_key": row.identity_key, "subject": row.subject, "message_id": row.message_id,
               "amount": amount_dict(amount)}
    return Event(name, row.identity_key, at, facts, row.interaction_id, row.thread_key or None, row.message_id,
                 contact, sender, payload=payload)
