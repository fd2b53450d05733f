"""What a firing rule does, inside the firing transaction: tasks, statuses, tags, deals, and outbox rows.

Local effects are rows written in the same transaction as the timer's FIRED state, so they exist exactly once.
Outside effects (mail, webhooks) only become outbox rows here; agent.rules.outbox delivers them later. Templates
are rendered now, with what the store knows now (the contact's current name, the deal's current stage).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.rules import timers
from agent.rules.actions import (
    DealAction,
    EmailAction,
    Recipient,
    SetStatusAction,
    TagAction,
    TaskAction,
    WebhookAction,
    sign_webhook,
)
from agent.rules.amounts import Amount, best_total
from agent.rules.conditions import InteractionFacts, ParticipantFacts
from agent.rules.engine import RULE_HEADER, RULE_MESSAGE_ID_PREFIX, Event, Person, RuleEngine
from agent.rules.facts import Directory, contact_values
from agent.rules.spec import RuleSpec
from agent.rules.templates import build_context, render
from agent.store.models import Interaction
from agent.store.models_crm import Contact
from agent.store.models_rules import Deal, OutboxMessage, Task, Timer
from agent.store.sql import dialect_insert


@dataclass
class Firing:
    """One timer being fired: everything the actions read, loaded once."""

    session: Session
    engine: RuleEngine
    rule: RuleSpec
    timer: Timer
    now: datetime
    zone: ZoneInfo
    mail_from: str = ""  # the SMTP sender of rule mails
    report_values: dict[str, Any] | None = None  # schedule rules: the activity report
    effects: list[str] = field(default_factory=list)
    _context: dict | None = None
    _directory: Directory | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return self.timer.payload or {}

    @property
    def contact(self) -> Person | None:
        return Person.from_dict(self.payload.get("contact"))

    @property
    def sender(self) -> Person | None:
        return Person.from_dict(self.payload.get("sender"))

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = Directory()
            if self.timer.contact_id:
                self._directory.add_contacts(self.session, [self.timer.contact_id])
            contact = self.contact
            company_ids = [c["company_id"] for c in self._directory.contacts.values() if c["company_id"]]
            if contact and contact.company_id:
                company_ids.append(contact.company_id)
            self._directory.add_companies(self.session, company_ids)
        return self._directory

    def contact_record(self) -> dict[str, Any]:
        stored = self.directory.contacts.get(self.timer.contact_id) if self.timer.contact_id else None
        person = self.contact
        if stored is None:
            return {"name": person.name, "email": person.address} if person else {}
        values = {k: v for k, v in stored.items() if k not in ("company_id", "created_at")}
        values.setdefault("email", person.address if person else "")
        values["tags"] = ", ".join(str(t) for t in values.get("tags", ()))
        return values

    def context(self) -> dict:
        if self._context is None:
            self._context = build_context(self.rule.trigger.event, self._values(), timezone=self.zone)
        return self._context

    def _values(self) -> dict[str, Any]:
        options = self.engine.options
        values: dict[str, Any] = {"rule": {"name": self.rule.name}, "now": self.now, "due_date": self.timer.due_at,
                                  "manager": {"name": options.manager_name, "email": options.manager_address}}
        event = self.rule.trigger.event
        if event == "schedule":
            values["period"] = {k: v for k, v in self.payload.get("period", {}).items() if k in ("label",)}
            values["period"].update(start=_when(self.payload.get("period", {}).get("start")),
                                    end=_when(self.payload.get("period", {}).get("end")))
            values["report"] = self.report_values or {}
            return values
        values["contact"] = self.contact_record()
        company = self.directory.company_of(self.contact) or (
            self.directory.companies.get(self.directory.contacts.get(self.timer.contact_id, {}).get("company_id")))
        values["company"] = {k: (", ".join(v) if k == "tags" else v) for k, v in (company or {}).items()}
        if event in ("email.sent", "email.received", "meeting.ended"):
            values["interaction"] = self._interaction()
            sender = self.sender
            values["sender"] = {"name": sender.name, "email": sender.address} if sender else {}
            values["amount"] = amount_from(self.payload.get("amount"))
        deal = self._deal()
        if event != "contact.created":
            values["deal"] = deal_values(deal) if deal else {}
        if event == "deal.changed":
            values["amount"] = deal_amount(deal) if deal else None
        return values

    def _interaction(self) -> dict[str, Any]:
        row = self.session.get(Interaction, self.timer.interaction_id) if self.timer.interaction_id else None
        if row is None:
            return {"subject": self.payload.get("subject", "")}
        senders = [p for p in row.participants if p.role in ("from", "organizer")]
        to = [p for p in row.participants if p.role in ("to", "attendee")]
        return {"subject": row.subject, "date": row.occurred_at, "kind": row.kind, "direction": row.direction,
                "snippet": row.snippet, "from": ", ".join(_shown(p) for p in senders),
                "to": ", ".join(_shown(p) for p in to), "attachments": ", ".join(row.details.get("attachments", []))}

    def _deal(self) -> Deal | None:
        if self.timer.deal_id:
            return self.session.get(Deal, self.timer.deal_id)
        return timers.deal_for(self.session, self.timer.thread_key, self.timer.contact_id)

    def recipient(self, who: Recipient) -> str:
        if who.kind == "address":
            return who.address
        if who.kind == "sender":
            return self.sender.address if self.sender else ""
        if who.kind == "contact":
            return self.contact_record().get("email", "")
        return self.engine.options.manager_address


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _shown(p) -> str:
    return f"{p.name} <{p.address}>" if p.name else p.address


def amount_from(data: dict[str, str] | None) -> Amount | None:
    if not data:
        return None
    try:
        return Amount(Decimal(data["value"]), data.get("currency", ""), data.get("tax", ""), data.get("text", ""))
    except (InvalidOperation, KeyError):
        return None


def deal_amount(deal: Deal) -> Amount | None:
    return Amount(Decimal(deal.amount), deal.currency) if deal.amount else None


def deal_values(deal: Deal) -> dict[str, Any]:
    return {"name": deal.name, "stage": deal.stage, "previous_stage": deal.previous_stage,
            "amount": Decimal(deal.amount) if deal.amount else None, "owner": deal.owner}


def message_id_for(idempotency_key: str, mail_from: str) -> str:
    """The Message-ID of a rule mail: derived from its idempotency key, so a copy is recognisable and unique."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]  # short enough not to fold the header
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "crm-agent.invalid"
    return f"{RULE_MESSAGE_ID_PREFIX}{digest}@{domain}"


# ------------------------------------------------------------------------------------------------ actions


def apply_actions(firing: Firing) -> list[str]:
    """Run the rule's actions in order; returns one line per effect. UserError (a template that cannot render, a
    secret that cannot be read) propagates: the caller rolls the whole firing back and records the failure."""
    for index, action in enumerate(firing.rule.actions):
        if isinstance(action, TaskAction):
            _task(firing, index, action)
        elif isinstance(action, EmailAction):
            _email(firing, index, action)
        elif isinstance(action, WebhookAction):
            _webhook(firing, index, action)
        elif isinstance(action, SetStatusAction | TagAction):
            _contact_change(firing, action)
        elif isinstance(action, DealAction):
            _deal_action(firing, action)
    return firing.effects


def _task(firing: Firing, index: int, action: TaskAction) -> None:
    context = firing.context()
    title = render(action.title, context, single_line=True)
    body = render(action.body, context).strip() if action.body else ""
    assignee = firing.recipient(action.assignee)
    due = firing.engine.calendar.add(firing.now, action.due) if action.due else None
    row = {"timer_id": firing.timer.id, "action_index": index, "rule": firing.rule.name, "title": title[:2000],
           "body": body, "assignee": assignee, "status": "open", "due_at": due, "created_at": firing.now,
           "contact_id": firing.timer.contact_id, "interaction_id": firing.timer.interaction_id}
    stmt = dialect_insert(firing.session, Task).on_conflict_do_nothing(index_elements=["timer_id", "action_index"])
    firing.session.execute(stmt.values(row))
    firing.effects.append(f"task for {assignee or 'nobody'}: {title}")


def _outbox(firing: Firing, index: int, kind: str, payload: dict[str, Any], *, status: str = "pending",
            error: str = "") -> str:
    key = f"{firing.timer.dedupe_key}#{index}"
    row = {"idempotency_key": key, "timer_id": firing.timer.id, "rule": firing.rule.name, "action_index": index,
           "kind": kind, "status": status, "phase": "", "payload": payload, "attempts": 0,
           "next_attempt_at": firing.now if status == "pending" else None, "created_at": firing.now,
           "last_error": error}
    stmt = dialect_insert(firing.session, OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"])
    firing.session.execute(stmt.values(row))
    return key


def _email(firing: Firing, index: int, action: EmailAction) -> None:
    context = firing.context()
    to = [a for a in dict.fromkeys(firing.recipient(r) for r in action.to) if a]
    cc = [a for a in dict.fromkeys(firing.recipient(r) for r in action.cc) if a and a not in to]
    key = f"{firing.timer.dedupe_key}#{index}"
    payload = {"from": firing.mail_from, "to": to, "cc": cc,
               "subject": render(action.subject, context, single_line=True),
               "body": render(action.body, context), "message_id": message_id_for(key, firing.mail_from),
               "headers": {RULE_HEADER: firing.rule.name, "Auto-Submitted": "auto-generated"},
               "date": firing.now.isoformat()}
    missing = [str(r) for r in (*action.to, *action.cc) if not firing.recipient(r)]
    if not to:
        problem = f"no recipient: {', '.join(missing)} unknown" + (
            " (the manager is not configured: rules_engine.manager_address)" if "manager" in missing else "")
        _outbox(firing, index, "email", payload, status="failed", error=problem)
        firing.effects.append(f"email not queued: {problem}")
        return
    status = "dry_run" if action.dry_run else "pending"
    _outbox(firing, index, "email", payload, status=status)
    verb = "recorded (dry run, not sent)" if action.dry_run else "queued"
    firing.effects.append(f"email to {', '.join(to)} {verb}: {payload['subject']}")


def _webhook(firing: Firing, index: int, action: WebhookAction) -> None:
    context = firing.context()
    default = {"rule": firing.rule.name, "event": firing.timer.event, "timer": firing.timer.dedupe_key,
               "due_at": firing.timer.due_at.isoformat(), "fired_at": firing.now.isoformat(),
               "contact": firing.contact_record().get("email", ""), "subject": firing.payload.get("subject", "")}
    body = action.render_body(context, default)
    headers = {"Content-Type": "application/json"}
    if action.secret is not None:
        from agent.rules.actions import SIGNATURE_HEADER

        headers[SIGNATURE_HEADER] = sign_webhook(action.secret.reveal(), body)
    payload = {"url": action.url, "body": body.decode(), "headers": headers}
    _outbox(firing, index, "webhook", payload)
    firing.effects.append(f"webhook POST {action.url} queued")


def _contact_change(firing: Firing, action: SetStatusAction | TagAction) -> None:
    contact = firing.session.get(Contact, firing.timer.contact_id) if firing.timer.contact_id else None
    if contact is None:
        firing.effects.append(f"{action.type}: skipped, the event has no known contact")
        return
    if isinstance(action, SetStatusAction):
        if contact.status != action.status:
            firing.effects.append(f"contact {contact.id} status {contact.status or '(none)'} → {action.status}")
            contact.status = action.status
            contact.updated_at = firing.now
        return
    new = [t for t in action.tags if t not in (contact.tags or [])]
    if new:
        contact.tags = [*(contact.tags or []), *new]
        contact.updated_at = firing.now
        firing.effects.append(f"contact {contact.id} tagged {', '.join(new)}")


def _deal_action(firing: Firing, action: DealAction) -> None:
    session, timer, now = firing.session, firing.timer, firing.now
    deal = firing._deal()
    amount = None
    if action.amount == "auto":
        found = amount_from(firing.payload.get("amount")) or thread_amount(session, timer.thread_key, timer.event_at)
        amount = found.value if found else None
    elif action.amount is not None:
        amount = Decimal(action.amount)
    name = render(action.name, firing.context(), single_line=True) if action.name else ""
    if deal is None:
        company_id = firing.directory.contacts.get(timer.contact_id, {}).get("company_id") if timer.contact_id else None
        deal = Deal(name=name or firing.payload.get("subject", "")[:256], stage=action.stage or "proposal",
                    previous_stage="", amount=str(amount) if amount is not None else None, currency="EUR",
                    owner=firing.sender.address if firing.sender else "", thread_key=timer.thread_key,
                    contact_id=timer.contact_id, company_id=company_id, source=firing.rule.name,
                    created_at=now, updated_at=now, closed_at=now if action.stage in timers.CLOSED_STAGES else None)
        session.add(deal)
        session.flush()
        firing.effects.append(f"deal {deal.id} created: {deal.name} ({deal.stage}, {deal.amount or 'no amount'})")
    else:
        changes = []
        if action.stage and action.stage != deal.stage:
            deal.previous_stage, deal.stage = deal.stage, action.stage
            deal.closed_at = now if action.stage in timers.CLOSED_STAGES else None
            changes.append(f"stage {deal.previous_stage} → {deal.stage}")
        if amount is not None and deal.amount != str(amount):
            deal.amount = str(amount)
            changes.append(f"amount {deal.amount}")
        if name and name != deal.name:
            deal.name = name[:256]
            changes.append(f"name {deal.name}")
        if not changes:
            return
        deal.updated_at = now
        session.flush()
        firing.effects.append(f"deal {deal.id} updated: {', '.join(changes)}")
    firing._context = None  # templates of later actions see the new deal
    deal_changed(session, firing.engine, deal, now)


def thread_amount(session: Session, thread_key: str | None, before: datetime) -> Amount | None:
    """The largest total written earlier in the thread: a purchase order rarely repeats the quote's total, and a
    quote's total is at least each option or deposit discussed around it."""
    if not thread_key:
        return None
    rows = session.execute(select(Interaction.body, Interaction.snippet).where(
        Interaction.thread_key == thread_key, Interaction.occurred_at <= before, Interaction.kind == "email")
        .order_by(Interaction.occurred_at.desc()).limit(50))
    found = [best_total(body) if body else best_total(snippet) if snippet else None for body, snippet in rows]
    return max((a for a in found if a is not None), key=lambda a: a.value, default=None)


def deal_changed(session: Session, engine: RuleEngine, deal: Deal, now: datetime) -> None:
    """A deal was created or changed: arm `deal.changed` rules, and cancel `deal_closed` timers when it closed."""
    directory = Directory()
    if deal.contact_id:
        directory.add_contacts(session, [deal.contact_id])
        directory.add_companies(session, [c["company_id"] for c in directory.contacts.values() if c["company_id"]])
    contact = directory.contacts.get(deal.contact_id) if deal.contact_id else None
    company = directory.companies.get(contact["company_id"]) if contact and contact["company_id"] else None
    person = (Person(contact.get("email", ""), contact["name"], deal.contact_id, contact["company_id"])
              if contact else None)
    participants = (ParticipantFacts(person.address, person.name, company["name"] if company else "",
                                     contact["status"], tuple(contact["tags"])),) if person and contact else ()
    facts = InteractionFacts(kind="deal", participants=participants, amount=deal_amount(deal), deal_stage=deal.stage)
    event = Event("deal.changed", f"deal:{deal.id}:{json.dumps([deal.stage, deal.amount])}", now, facts,
                  thread_key=deal.thread_key, contact=person, deal_id=deal.id)
    rows = []
    for decision in engine.decide(event):
        if decision.arming is not None:
            rows.append((decision.arming, decision.arming.row(now)))
    inserted = timers.arm(session, [row for _, row in rows])
    for arming, _ in rows:
        if arming.dedupe_key in inserted:
            timers.log(session, arming.rule.name, "armed", now, timer_id=inserted[arming.dedupe_key],
                       reasons=arming.reasons)
    if deal.stage in timers.CLOSED_STAGES:
        rules = engine.cancelled_by("deal_closed")
        if deal.thread_key:
            pending = timers.pending_for_replies(session, rules, [deal.thread_key], [])
        else:
            pending = timers.pending_for_contacts(session, rules, [deal.contact_id] if deal.contact_id else [])
        why = f"deal {deal.id} \"{deal.name}\" is {deal.stage}"
        for timer in pending:
            if timers.cancel(session, [timer.id], now, why):
                timers.log(session, timer.rule, "cancelled", now, timer_id=timer.id, reasons=[why])


def contact_event(contact: Contact, email: str, company: dict[str, Any] | None) -> Event:
    """The `contact.created` event of a contact."""
    values = contact_values(contact)
    person = Person(email, values["name"], contact.id, contact.company_id)
    participant = ParticipantFacts(email, values["name"], company["name"] if company else "", contact.status,
                                   tuple(str(t) for t in (contact.tags or ())))
    return Event("contact.created", f"contact:{contact.id}", contact.created_at,
                 InteractionFacts(kind="contact", participants=(participant,)), contact=person)

