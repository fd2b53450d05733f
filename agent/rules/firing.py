"""The scheduler tick: arm schedule and new-contact timers, claim due timers under a lease, and fire each one.

Firing one timer is one transaction: lock the row (PostgreSQL), check it is still pending and leased to us, then
either close it as *missed* (later than the grace), *cancelled* (an `unless` condition happened meanwhile — a reply
arriving after the due time but before this tick still counts), *failed* (a template or secret that cannot be
used), or run the actions and close it as *fired*. Effects and the closed state commit together, so a crash at
any point leaves either nothing (the lease expires, the next tick takes the timer again) or everything.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.rules import timers
from agent.rules.cron import period_key
from agent.rules.effects import Firing, apply_actions, contact_event
from agent.rules.engine import Event, RuleEngine, first_cancel, lateness_verdict
from agent.rules.facts import Directory, event_for, load_rows
from agent.rules.report import activity_report
from agent.store.db import Store
from agent.store.models import Meta
from agent.store.models_crm import Contact
from agent.store.models_meetings import AgentEvent
from agent.store.models_rules import Timer

log = logging.getLogger(__name__)

CONTACTS_SEEN_KEY = "rules.contacts_seen"  # the highest contact id `contact.created` rules have looked at
MAX_ROUNDS = 20  # claim rounds per tick: a tick stays bounded even with a huge backlog


def ensure_watermark(session: Session) -> None:
    """Contacts that exist when the engine first runs are not `contact.created` events: start after them."""
    if session.get(Meta, CONTACTS_SEEN_KEY) is None:
        highest = session.scalar(select(func.max(Contact.id))) or 0
        session.add(Meta(key=CONTACTS_SEEN_KEY, value=str(highest)))


def arm_contacts(session: Session, engine: RuleEngine, now: datetime, *, limit: int = 1000) -> int:
    """Arm `contact.created` rules for contacts created since the last look; returns how many contacts were read."""
    ensure_watermark(session)
    session.flush()
    mark = session.get(Meta, CONTACTS_SEEN_KEY)
    seen = int(mark.value or 0)
    contacts = list(session.scalars(select(Contact).where(Contact.id > seen).order_by(Contact.id).limit(limit)))
    if not contacts:
        return 0
    rules = engine.listening("contact.created")
    if rules:
        directory = Directory()
        directory.add_contacts(session, [c.id for c in contacts])
        directory.add_companies(session, [c.company_id for c in contacts if c.company_id])
        rows = []
        for contact in contacts:
            if contact.merged_into_id is not None:
                continue
            email = directory.contacts.get(contact.id, {}).get("email", "")
            event = contact_event(contact, email, directory.companies.get(contact.company_id))
            rows.extend((d.arming, d.arming.row(now)) for d in engine.decide(event, rules) if d.arming)
        _insert(session, engine, rows, now)
    mark.value = str(contacts[-1].id)
    return len(contacts)


def arm_meetings_ended(session: Session, engine: RuleEngine, now: datetime, *, limit: int = 1000) -> int:
    """Consume the meetings feature's ``meeting.ended`` events (agent_event), arming `meeting.ended` rules in the
    same transaction that marks them consumed; returns how many events were consumed."""
    events = list(session.scalars(select(AgentEvent).where(AgentEvent.kind == "meeting.ended",
                                                           AgentEvent.consumed_at.is_(None))
                                  .order_by(AgentEvent.occurred_at, AgentEvent.id).limit(limit)))
    if not events:
        return 0
    rules = engine.listening("meeting.ended")
    if rules:
        rows = load_rows(session, [e.interaction_id for e in events if e.interaction_id])
        directory = Directory.load(session, rows.values())
        pairs = []
        for stored in events:
            row = rows.get(stored.interaction_id)
            event = event_for(row, directory) if row is not None else None
            if event is None:
                continue
            event = replace(event, key=stored.key, at=stored.occurred_at)
            pairs.extend((d.arming, d.arming.row(now)) for d in engine.decide(event, rules) if d.arming)
        _insert(session, engine, pairs, now)
    for event in events:
        event.consumed_at = now
    return len(events)


def arm_schedules(session: Session, engine: RuleEngine, now: datetime) -> int:
    """Each schedule rule always has its next occurrence armed; returns how many timers were armed."""
    rows = []
    for rule in engine.listening("schedule"):
        if session.scalar(select(Timer.id).where(Timer.rule == rule.name, Timer.status == "pending").limit(1)):
            continue
        fire = rule.trigger.next_fire(now)
        previous = session.scalar(select(func.max(Timer.due_at)).where(Timer.rule == rule.name))
        start = previous if previous and previous < fire else fire - (rule.trigger.next_fire(fire) - fire)
        key = period_key(rule.trigger.cron or "", fire, rule.trigger.timezone)
        period = {"start": start.isoformat(), "end": fire.isoformat(),
                  "label": period_label(start, fire, ZoneInfo(rule.trigger.timezone))}
        event = Event("schedule", key, fire, period_key=key, payload={"period": period})
        rows.extend((d.arming, d.arming.row(now)) for d in engine.decide(event, [rule]) if d.arming)
    return len(_insert(session, engine, rows, now))


def period_label(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    first, last = start.astimezone(zone), end.astimezone(zone)
    if timedelta(days=6) <= end - start <= timedelta(days=8):
        return f"semaine du {first:%d/%m/%Y}"
    if end - start <= timedelta(days=1, hours=1):
        return f"journée du {first:%d/%m/%Y}"
    return f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}"


def _insert(session: Session, engine: RuleEngine, pairs, now: datetime) -> dict[str, int]:
    rows = []
    for arming, row in pairs:
        late = lateness_verdict(arming.due_at, now, engine.options.grace)
        if late:
            row.update(status="missed", closed_at=now, outcome=late)
        rows.append(row)
    inserted = timers.arm(session, rows)
    for arming, row in pairs:
        if arming.dedupe_key in inserted:
            decision = "armed" if row["status"] == "pending" else row["status"]
            timers.log(session, arming.rule.name, decision, now, timer_id=inserted[arming.dedupe_key],
                       reasons=[*arming.reasons, *([row["outcome"]] if row.get("outcome") else [])])
    return inserted


class Scheduler:
    """Fires due timers for one worker (``owner`` names it in leases)."""

    def __init__(self, store: Store, engine: RuleEngine, zone: ZoneInfo, owner: str, *, mail_from: str = "") -> None:
        self.store = store
        self.engine = engine
        self.zone = zone
        self.owner = owner
        self.mail_from = mail_from

    def tick(self, now: datetime) -> dict[str, int]:
        """One pass: arm what time and new contacts call for, then fire everything due. Returns counts."""
        counts: Counter[str] = Counter()
        with self.store.unit_of_work() as session:
            counts["schedules_armed"] = arm_schedules(session, self.engine, now)
            counts["contacts_read"] = arm_contacts(session, self.engine, now)
            counts["meetings_ended"] = arm_meetings_ended(session, self.engine, now)
        known = [rule.name for rule in self.engine.rules]
        for _ in range(MAX_ROUNDS):
            with self.store.unit_of_work() as session:
                claimed = timers.claim_due(session, now, self.owner, self.engine.options.lease,
                                           self.engine.options.claim_limit, self.engine.enabled_names, known)
            counts["claimed"] += len(claimed)
            for timer_id in claimed:
                counts[self.fire(timer_id, now)] += 1
            if not claimed:  # another round picks up timers armed by this one (a deal change, due at once)
                break
        if counts["fired"] or counts["missed"]:  # a schedule that just fired has its next occurrence armed now
            with self.store.unit_of_work() as session:
                counts["schedules_armed"] += arm_schedules(session, self.engine, now)
        return dict(counts)

    def fire(self, timer_id: int, now: datetime) -> str:
        """Fire (or close) one claimed timer in its own transaction; returns what happened."""
        with self.store.unit_of_work() as session:
            timer = timers.lock(session, timer_id, self.owner)
            if timer is None:
                return "lost_lease"
            return self._decide(session, timer, now)

    def _decide(self, session: Session, timer: Timer, now: datetime) -> str:
        rule = self.engine.by_name.get(timer.rule)
        if rule is None:
            return self._close(session, timer, "cancelled", now, f"rule {timer.rule!r} is no longer in the config")
        late = lateness_verdict(timer.due_at, now, self.engine.options.grace)
        if late:
            return self._close(session, timer, "missed", now, late)
        if rule.unless:
            found = timers.candidates_for(session, {c.kind for c in rule.unless}, timer.thread_key,
                                          (timer.payload or {}).get("message_id"), timer.contact_id, timer.event_at)
            cancel = first_cancel(rule, timer.event_at, found)
            if cancel is not None:
                return self._close(session, timer, "cancelled", now,
                                   f"checked when firing: {cancel.text} (unless {cancel.kind})", cancel.interaction_id)
        firing = Firing(session, self.engine, rule, timer, now, self.zone, self.mail_from)
        if rule.trigger.event == "schedule":
            firing.report_values = activity_report(session, timer, now, self.zone)
        try:
            with session.begin_nested():
                effects = apply_actions(firing)
        except UserError as error:
            log.warning("rule %s: timer %s failed: %s", rule.name, timer.id, error.message)
            return self._close(session, timer, "failed", now, error.message)
        timers.close(session, timer, "fired", now, "; ".join(effects))
        timers.log(session, rule.name, "fired", now, timer_id=timer.id, interaction_id=timer.interaction_id,
                   reasons=effects)
        return "fired"

    def _close(self, session: Session, timer: Timer, status: str, now: datetime, why: str,
               cancelled_by: int | None = None) -> str:
        timers.close(session, timer, status, now, why, cancelled_by)
        timers.log(session, timer.rule, status, now, timer_id=timer.id,
                   interaction_id=cancelled_by or timer.interaction_id, reasons=[why])
        return status
