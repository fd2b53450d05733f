"""`rules simulate NAME [--since D]`: replay stored history against one rule and say what it would have done, and why.

Read-only: nothing is written, nothing is sent. Every stored event since ``since`` goes through the same engine as
live arming (conditions, once_per dedupe, due time); each match is then judged against what happened after it, as
the live engine would have at its due time: cancelled by the first `unless` event before the due time, fired at
the due time, or still pending when the due time has not come. The live timer of the same dedupe key, if any, is
shown beside the verdict.

History is read in a handful of queries (mail by chunks, one index of inbound mail by thread and In-Reply-To, the
meetings and deals), so 100,000 stored interactions replay in seconds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.rules.cron import fires_between, period_key
from agent.rules.effects import contact_event
from agent.rules.engine import CancelCandidate, Decision, Event, RuleEngine, first_cancel
from agent.rules.facts import Directory, event_for, is_rule_message_id, load_rows
from agent.rules.firing import period_label
from agent.rules.spec import RuleSpec
from agent.store.models import Interaction, Participant
from agent.store.models_crm import Contact
from agent.store.models_rules import Deal, RuleFiring, Timer
from agent.store.sql import chunks

CHUNK = 2000
EXAMPLES = 10


class History:
    """What may cancel a timer, indexed in memory: inbound mail by thread and In-Reply-To, by contact; meetings by
    contact; deals by thread and contact."""

    def __init__(self, session: Session, since: datetime) -> None:
        excluded = set(session.scalars(select(RuleFiring.interaction_id).where(RuleFiring.decision == "not-a-reply")))
        self.by_thread: dict[str, list[CancelCandidate]] = {}
        self.by_reply_to: dict[str, list[CancelCandidate]] = {}
        self.by_contact: dict[int, list[CancelCandidate]] = {}
        rows = session.execute(
            select(Interaction.id, Interaction.kind, Interaction.direction, Interaction.occurred_at,
                   Interaction.thread_key, Interaction.message_id, Interaction.status, Interaction.details,
                   Participant.role, Participant.address, Participant.contact_id)
            .outerjoin(Participant, Participant.interaction_id == Interaction.id)
            .where(Interaction.occurred_at >= since,
                   ((Interaction.kind == "email") & (Interaction.direction == "in")) | (Interaction.kind == "meeting"))
        )
        seen: set[int] = set()
        for iid, kind, _direction, at, thread, mid, status, details, role, address, contact_id in rows:
            if kind == "meeting":
                if contact_id and (status or "").upper() != "CANCELLED":
                    self.by_contact.setdefault(contact_id, []).append(CancelCandidate(
                        "meeting_booked", at, iid, f"meeting with the contact on {_when(at)} (interaction {iid})"))
                continue
            if iid in excluded or is_rule_message_id(mid) or role != "from":
                continue
            if contact_id:
                self.by_contact.setdefault(contact_id, []).append(CancelCandidate(
                    "inbound_from_contact", at, iid, f"mail from the contact on {_when(at)} (interaction {iid})"))
            if iid in seen:
                continue
            seen.add(iid)
            reply = CancelCandidate("reply", at, iid, f"reply from {address} on {_when(at)} (interaction {iid})")
            if thread:
                self.by_thread.setdefault(thread, []).append(reply)
            if (details or {}).get("in_reply_to"):
                self.by_reply_to.setdefault(details["in_reply_to"], []).append(reply)
        self.deals_by_thread: dict[str, Deal] = {}
        self.deals_by_contact: dict[int, Deal] = {}
        for deal in session.scalars(select(Deal).order_by(Deal.id)):
            if deal.thread_key:
                self.deals_by_thread[deal.thread_key] = deal
            if deal.contact_id:
                self.deals_by_contact[deal.contact_id] = deal

    def candidates(self, event: Event) -> list[CancelCandidate]:
        found = list(self.by_thread.get(event.thread_key or "", ()))
        found += [c for c in self.by_reply_to.get(event.message_id or "", ()) if c not in found]
        if event.contact and event.contact.contact_id:
            found += self.by_contact.get(event.contact.contact_id, [])
        contact_id = event.contact.contact_id if event.contact else None
        deal = self.deals_by_thread.get(event.thread_key or "") or self.deals_by_contact.get(contact_id or 0)
        if deal is not None and deal.stage in ("won", "lost"):
            found.append(CancelCandidate("deal_closed", deal.closed_at or deal.updated_at, None,
                                         f"deal {deal.id} \"{deal.name}\" is {deal.stage}"))
        return found


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _events(session: Session, rule: RuleSpec, since: datetime, now: datetime) -> Iterator[Event]:
    trigger = rule.trigger.event
    if trigger in ("email.sent", "email.received", "meeting.ended"):
        kind = "meeting" if trigger == "meeting.ended" else "email"
        query = select(Interaction.id).where(Interaction.kind == kind, Interaction.occurred_at >= since)
        if kind == "email":
            query = query.where(Interaction.direction == ("out" if trigger == "email.sent" else "in"))
        ids = list(session.scalars(query.order_by(Interaction.occurred_at, Interaction.id)))
        for part in chunks(ids, CHUNK):
            yield from _interaction_events(session, part)
    elif trigger == "contact.created":
        contacts = list(session.scalars(select(Contact).order_by(Contact.id).where(
            Contact.created_at >= since, Contact.merged_into_id.is_(None))))
        directory = Directory()
        directory.add_contacts(session, [c.id for c in contacts])
        directory.add_companies(session, [c.company_id for c in contacts if c.company_id])
        for contact in contacts:
            yield contact_event(contact, directory.contacts.get(contact.id, {}).get("email", ""),
                                directory.companies.get(contact.company_id))
    elif trigger == "schedule":
        zone = ZoneInfo(rule.trigger.timezone)
        previous = since
        for fire in fires_between(rule.trigger.cron or "", since, now, rule.trigger.timezone):
            key = period_key(rule.trigger.cron or "", fire, rule.trigger.timezone)
            yield Event("schedule", key, fire, period_key=key,
                        payload={"period": {"label": period_label(previous, fire, zone)}})
            previous = fire


def _interaction_events(session: Session, ids) -> Iterator[Event]:
    rows = load_rows(session, ids)
    ordered = [rows[i] for i in ids if i in rows]
    directory = Directory.load(session, ordered)
    for row in ordered:
        event = event_for(row, directory)
        if event is not None:
            yield event


def simulate(session: Session, engine: RuleEngine, rule: RuleSpec, since: datetime, now: datetime,
             zone: ZoneInfo) -> dict[str, Any]:
    """What ``rule`` would have done over the history since ``since`` (see the module docstring)."""
    started = time.perf_counter()
    history = History(session, since) if rule.unless else None
    outcomes: Counter[str] = Counter()
    not_matched: Counter[str] = Counter()
    decisions: list[dict[str, Any]] = []
    examples: list[dict[str, Any]] = []
    armed: dict[str, Event] = {}
    examined = 0
    for event in (_events(session, rule, since, now) if rule.trigger.event != "deal.changed" else iter(())):
        examined += 1
        decision = engine.decide(event, [rule])[0]
        if decision.arming is None:
            why = decision.note or next((r for r in decision.result.reasons if _failing(r)), "conditions not met")
            not_matched[why] += 1
            if len(examples) < EXAMPLES:
                why = [*decision.result.reasons, *([decision.note] if decision.note else [])]
                examples.append({**_describe(event, zone), "why": why})
            continue
        decisions.append(_judge(decision, event, armed, history, now, zone, outcomes))
    _attach_live(session, decisions)
    return {
        "rule": rule.name, "event": rule.trigger.event, "since": since.astimezone(zone).isoformat(),
        "now": now.astimezone(zone).isoformat(), "examined": examined, "matched": len(decisions),
        "outcomes": dict(outcomes), "decisions": decisions,
        "not_matched": {"count": sum(not_matched.values()), "reasons": not_matched.most_common(10),
                        "examples": examples},
        "note": "deal.changed rules are armed by deal changes as they happen; history does not keep past deal "
                "changes, so simulate cannot replay them" if rule.trigger.event == "deal.changed" else "",
        "seconds": round(time.perf_counter() - started, 3),
    }


def _failing(reason: str) -> bool:
    return any(word in reason for word in (" did not ", "no ", " is not ", "never fire", "not one of"))


def _describe(event: Event, zone: ZoneInfo) -> dict[str, Any]:
    return {"event": event.key, "interaction_id": event.interaction_id, "date": event.at.astimezone(zone).isoformat(),
            "subject": event.payload.get("subject", event.payload.get("period", {}).get("label", "")),
            "contact": event.contact.address if event.contact else ""}


def _judge(decision: Decision, event: Event, armed: dict[str, Event], history: History | None, now: datetime,
           zone: ZoneInfo, outcomes: Counter[str]) -> dict[str, Any]:
    arming = decision.arming
    assert arming is not None
    entry = {**_describe(event, zone), "dedupe_key": arming.dedupe_key,
             "due_at": arming.due_at.astimezone(zone).isoformat(), "why": list(arming.reasons)}
    first = armed.get(arming.dedupe_key)
    if first is not None:
        outcomes["duplicate"] += 1
        return {**entry, "outcome": "not armed again",
                "because": f"once_per {arming.rule.once_per}: already armed by {first.key} on "
                           f"{first.at.astimezone(zone):%Y-%m-%d %H:%M}"}
    armed[arming.dedupe_key] = event
    cancel = first_cancel(arming.rule, event.at, history.candidates(event), until=min(arming.due_at, now)) \
        if history is not None else None
    if cancel is not None:
        outcomes["cancelled"] += 1
        return {**entry, "outcome": "cancelled", "because": f"{cancel.text} (unless {cancel.kind})",
                "cancelled_at": cancel.at.astimezone(zone).isoformat()}
    if arming.due_at > now:
        outcomes["pending"] += 1
        return {**entry, "outcome": "pending", "because": "not due yet and nothing has cancelled it"}
    outcomes["would_fire"] += 1
    return {**entry, "outcome": "would fire", "because": "due, and nothing cancelled it before the due time",
            "actions": [action.type for action in arming.rule.actions]}


def _attach_live(session: Session, decisions: list[dict[str, Any]]) -> None:
    keys = [d["dedupe_key"] for d in decisions]
    live: dict[str, tuple[int, str, str]] = {}
    for part in chunks(keys, 500):
        for key, timer_id, status, outcome in session.execute(
                select(Timer.dedupe_key, Timer.id, Timer.status, Timer.outcome).where(Timer.dedupe_key.in_(part))):
            live[key] = (timer_id, status, outcome)
    for entry in decisions:
        found = live.get(entry["dedupe_key"])
        if found and entry["outcome"] != "not armed again":
            entry["live"] = {"timer": found[0], "status": found[1], "outcome": found[2]}
