"""Auto-creation of contacts from participants nobody knows, per the account's policy; the rest goes to review.

Policies (``create_contacts`` of the account, else ``[matching] create_contacts``; default ``sent``):

- ``none``: nothing is created; unknown external addresses wait in the review queue;
- ``sent``: people we wrote to — recipients (to, cc, bcc) of outgoing mail;
- ``sent_and_received``: those, plus people who wrote to us — the sender of incoming mail. Others on incoming
  mail (a colleague in copy) are neither: review.

Meetings create nothing: an attendee nobody has emailed is not someone we wrote to; unknown attendees wait in
the review queue like any unknown address.

Never created, whatever the policy: internal addresses, automated ones (``noreply@``, ``mailer-daemon@`` …),
blocklisted ones (config ``[matching] blocklist`` or blocklisted in review), addresses ignored in review, and a
free-mail address with no display name (nothing tells who it is). A role address (``contact@``, ``devis@`` …)
never becomes a person: when the policy allows, it gets its *company* (made from its domain if none owns it).
Everything not created and not dropped is counted in the review queue, for new interactions only, so counts
stay exact when a batch runs twice or the same mail arrives from a second mailbox.

``verdict`` is pure; ``settle`` (before ``upsert``) and ``queue`` (after it) are the pipeline's two calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.matching import unknown_queue
from agent.matching.names import clean_display_name, split_person_name
from agent.matching.roles import address_kind
from agent.records import Direction, InteractionDraft, MatchReason, ParticipantDraft, Role
from agent.store.crm_repo import relink_participants
from agent.store.models_crm import Contact, ContactAddress

Action = Literal["create", "company", "queue", "drop"]
POLICIES = ("none", "sent", "sent_and_received")
RECIPIENT_ROLES = frozenset({Role.TO, Role.CC, Role.BCC, Role.ATTENDEE})
SENDER_ROLES = frozenset({Role.FROM, Role.ORGANIZER})


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    reason: str


def we_wrote_to(participant: ParticipantDraft, direction: Direction) -> bool:
    return direction is Direction.OUT and participant.role in RECIPIENT_ROLES


def wrote_to_us(participant: ParticipantDraft, direction: Direction) -> bool:
    return direction is Direction.IN and participant.role in SENDER_ROLES


def verdict(participant: ParticipantDraft, direction: Direction, policy: str, *, free_mail: bool, blocked: bool,
            status: str | None = None, interaction_kind: str = "email") -> Verdict:
    """What to do with an external participant that matched no contact (pure; see the module docstring)."""
    if participant.is_internal:
        return Verdict("drop", "internal address")
    if blocked or status == "blocklisted":
        return Verdict("drop", "blocklisted")
    kind = address_kind(participant.address)
    if kind == "automated":
        return Verdict("drop", "automated address")
    if status == "attached":
        return Verdict("drop", "attached to a company in review")
    if status == "ignored":
        return Verdict("queue", "ignored in review")
    sent, received = we_wrote_to(participant, direction), wrote_to_us(participant, direction)
    allowed = (policy == "sent" and sent) or (policy == "sent_and_received" and (sent or received))
    if not allowed or interaction_kind != "email":
        if policy == "none":
            return Verdict("queue", "the account creates no contacts (policy none)")
        if interaction_kind != "email":
            return Verdict("queue", "meeting participant: contacts are created from mail only")
        if received:
            return Verdict("queue", "received only: the account creates contacts for people we write to")
        return Verdict("queue", "neither written to nor from (in copy of another's mail)")
    if kind == "role":
        if free_mail:
            return Verdict("queue", "role address on a free-mail domain")
        return Verdict("company", "role address: linked to the company, not to a person")
    if free_mail and not clean_display_name(participant.name):
        return Verdict("queue", "free-mail address without a name")
    return Verdict("create", "policy " + policy)


def account_policy(ctx) -> str:
    """The account's own policy, else the ``[matching]`` default, else ``sent``."""
    own = getattr(ctx.account, "create_contacts", None)
    if own in POLICIES:
        return own
    default = getattr(getattr(ctx, "matching", None), "create_contacts", None)
    return default if default in POLICIES else "sent"


def _free_mail(ctx) -> Callable[[str], bool]:
    is_free = ctx.policy.is_free_mail
    return lambda address: is_free(address.rpartition("@")[2])


def _unlinked(drafts: list[InteractionDraft]) -> list[tuple[InteractionDraft, ParticipantDraft]]:
    return [(d, p) for d in drafts for p in d.participants if not p.is_internal and p.contact_id is None]


# ---------------------------------------------------------------------------------------------- before upsert


def settle(batch) -> None:
    """Stored blocklist, addresses attached in review, reply inheritance, then creation per the account's policy."""
    from agent.matching import reply_links

    ctx, session = batch.ctx, batch.ctx.session
    patterns = unknown_queue.blocked_patterns(session)
    if patterns:
        for item in list(batch.live()):
            sender = next((m.address for m in item.parsed.from_ if unknown_queue.is_blocked(patterns, m.address)),
                          None) if item.parsed is not None else None
            if sender is not None:
                batch.skip(item, "filter_noise", "blocklist", f"{sender} (blocklisted in review)")
    drafts = [d for item in batch.live() for d in item.drafts]
    pending = _unlinked(drafts)
    if not pending:
        return
    decided = unknown_queue.decisions(session, {p.address for _, p in pending})
    for _, p in pending:
        status, company_id = decided.get(p.address, (None, None))
        if status == "attached" and company_id is not None and p.company_id is None:
            p.company_id, p.company_reason = company_id, MatchReason.MANUAL
    reply_links.inherit(session, drafts, ctx.policy)
    if _create(batch, [(d, p) for d, p in _unlinked(drafts)], decided, patterns):
        reply_links.inherit(session, drafts, ctx.policy)  # replies to a mail whose contact this batch just created


def _create(batch, pending, decided, patterns) -> bool:
    """Create what the account's policy asks for; True when some contact or company link was made."""
    ctx, session, now = batch.ctx, batch.ctx.session, batch.now
    policy, free_mail = account_policy(ctx), _free_mail(ctx)
    wanted: dict[str, tuple[Action, list[ParticipantDraft]]] = {}
    for draft, p in pending:
        blocked = ctx.is_blocked(p.address) or unknown_queue.is_blocked(patterns, p.address)
        status = decided.get(p.address, (None, None))[0]
        v = verdict(p, draft.direction, policy, free_mail=free_mail(p.address), blocked=blocked, status=status,
                    interaction_kind=draft.kind)
        if v.action == "company" and p.company_id is not None:
            continue  # a role address already linked to its company: nothing to make
        if v.action in ("create", "company"):
            action, people = wanted.setdefault(p.address, (v.action, []))
            people.append(p)
    if not wanted:
        return False
    created: dict[str, tuple[int | None, int | None]] = {}
    new_contacts: list[int] = []
    new_domains: dict[str, int] = {}
    for address, (action, people) in wanted.items():
        domain = ctx.policy.company_domain(address)
        company_id = next((p.company_id for p in people if p.company_id is not None), None)
        company_made = False
        if company_id is None:
            company_id, company_made = unknown_queue.company_for_domain(session, domain, now, create=True,
                                                                        source="auto")
            if company_made:
                new_domains[domain] = company_id
        contact_id = None
        if action == "create":
            contact_id, contact_made = _contact(session, address, people, company_id, now)
            if contact_made:
                new_contacts.append(contact_id)
        _link(people, contact_id, company_id, company_made)
        created[address] = (contact_id, company_id)
    for _, p in pending:  # the same address elsewhere in the batch (a mail it sent us) now has its contact
        contact_id, company_id = created.get(p.address, (None, None))
        if contact_id is not None and p.contact_id is None:
            p.contact_id, p.contact_reason = contact_id, MatchReason.EXACT
            if company_id is not None and p.company_id is None:
                p.company_id, p.company_reason = company_id, MatchReason.EXACT
        elif p.company_id is None and new_domains:  # a colleague of theirs in the batch: the new company's domain
            domain_company = new_domains.get(ctx.policy.company_domain(p.address) or "")
            if domain_company is not None:
                p.company_id, p.company_reason = domain_company, MatchReason.DOMAIN
    relink_participants(session, contact_ids=new_contacts, domains=list(new_domains), aliases=ctx.policy.alias_rules)
    unknown_queue.mark_created(session, created, now)
    return True


def _contact(session: Session, address: str, people: list[ParticipantDraft], company_id: int | None,
             now: datetime) -> tuple[int, bool]:
    """A new contact for ``address`` (or the one another worker just made for it). (id, created?)."""
    name = max((clean_display_name(p.name) for p in people), key=len, default="")
    first, last = split_person_name(name)
    try:
        with session.begin_nested():
            contact = Contact(display_name=name, first_name=first, last_name=last, company_id=company_id,
                              source="auto", created_at=now, updated_at=now, tags=[])
            session.add(contact)
            session.flush()
            session.add(ContactAddress(contact_id=contact.id, address=address, is_primary=True))
            session.flush()
        return contact.id, True
    except IntegrityError:  # a concurrent worker created it first (PostgreSQL teams): use theirs
        return session.scalar(select(ContactAddress.contact_id).where(ContactAddress.address == address)), False


def _link(people: list[ParticipantDraft], contact_id: int | None, company_id: int | None, company_made: bool) -> None:
    for index, p in enumerate(people):
        if contact_id is not None:
            p.contact_id = contact_id
            p.contact_reason = MatchReason.CREATED if index == 0 else MatchReason.EXACT
        if company_id is not None and p.company_id is None:
            p.company_id = company_id
            p.company_reason = MatchReason.CREATED if company_made or contact_id is not None else MatchReason.DOMAIN


# ---------------------------------------------------------------------------------------------- after upsert


def queue(batch) -> None:
    """Count unknown addresses of the interactions this batch created in the review queue."""
    ctx, session = batch.ctx, batch.ctx.session
    fresh = [(draft, interaction_id) for item in batch.live()
             for draft, interaction_id, new in zip(item.drafts, item.interaction_ids, item.new, strict=False) if new]
    pending = [(d, i, p) for d, i in fresh for p in d.participants if not p.is_internal and p.contact_id is None]
    if not pending:
        return
    policy, free_mail = account_policy(ctx), _free_mail(ctx)
    decided = unknown_queue.decisions(session, {p.address for _, _, p in pending})
    patterns = unknown_queue.blocked_patterns(session)
    seen: dict[str, unknown_queue.Sightings] = {}
    for draft, interaction_id, p in pending:
        blocked = ctx.is_blocked(p.address) or unknown_queue.is_blocked(patterns, p.address)
        v = verdict(p, draft.direction, policy, free_mail=free_mail(p.address), blocked=blocked,
                    status=decided.get(p.address, (None, None))[0], interaction_kind=draft.kind)
        if v.action != "queue" or (p.company_id is not None and address_kind(p.address) == "role"):
            continue
        seen.setdefault(p.address, unknown_queue.Sightings()).add(
            interaction_id, draft.occurred_at, p.name, we_wrote_to(p, draft.direction), v.reason)
    unknown_queue.record_sightings(session, seen)
