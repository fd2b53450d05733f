"""The pipeline hook: arm timers for new interactions and cancel those a new reply answers, in the batch transaction.

``on_batch`` runs inside the import batch's unit of work (after ``upsert``), so a timer exists exactly when the
interaction that armed it does, and a reply and the cancellation it causes commit together. Only interactions
*created* by the batch count: a resync or a second mailbox holding the same mail changes nothing, and the unique
dedupe key guards the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from agent.rules import timers
from agent.rules.engine import Arming, RuleEngine, first_cancel, lateness_verdict
from agent.rules.facts import Directory, MailRow, event_for, row_from_draft


@dataclass
class ArmReport:
    """What a batch did to the rules (for logs and tests)."""

    armed: list[str] = field(default_factory=list)  # dedupe keys of new pending timers
    born_closed: list[str] = field(default_factory=list)  # new timers already answered or too old (not pending)
    cancelled: list[int] = field(default_factory=list)  # pending timers cancelled by this batch
    not_replies: list[int] = field(default_factory=list)  # inbound interactions that do not count as replies
    moved: list[str] = field(default_factory=list)  # pending timers re-armed from an earlier mail of their thread


class PipelineHook:
    """The object ``PipelineContext.rules`` holds: ``on_batch(batch)`` inside the batch transaction."""

    def __init__(self, engine: RuleEngine) -> None:
        self.engine = engine
        self.last_report: ArmReport | None = None

    def on_batch(self, batch) -> ArmReport:
        rows: list[MailRow] = []
        for item in batch.items:
            if item.skip is not None:
                continue
            for draft, interaction_id, created in zip(item.drafts, item.interaction_ids, item.new, strict=False):
                if created:
                    rows.append(row_from_draft(draft, interaction_id, item.parsed))
        self.last_report = on_new_interactions(batch.ctx.session, self.engine, rows, batch.now)
        return self.last_report


def on_new_interactions(session: Session, engine: RuleEngine, rows: Sequence[MailRow], now: datetime) -> ArmReport:
    """Arm and cancel for interactions just written in this transaction."""
    report = ArmReport()
    if not rows:
        return report
    for row in rows:
        if row.kind == "email" and row.direction == "in" and not row.counts_as_reply and row.interaction_id:
            timers.log(session, "", "not-a-reply", now, interaction_id=row.interaction_id,
                       reasons=[row.not_a_reply_reason])
            report.not_replies.append(row.interaction_id)
    session.flush()  # the checks below read the log
    directory = Directory.load(session, rows)
    armings = []
    for row in rows:
        event = event_for(row, directory)
        if event is None or event.name == "meeting.ended":  # meeting.ended comes from the meetings' event table
            continue
        armings.extend(d.arming for d in engine.decide(event) if d.arming is not None)
    _arm(session, engine, armings, now, report)
    _cancel_answered(session, engine, rows, now, report)
    return report


def _arm(session: Session, engine: RuleEngine, armings: Sequence[Arming], now: datetime, report: ArmReport) -> None:
    """Write one timer per dedupe key. A thread's timer counts from its earliest matching mail, whatever the order
    mailboxes are synced in: a pending timer armed by a later mail is moved back to the earlier one."""
    earliest: dict[str, Arming] = {}
    for arming in sorted(armings, key=lambda a: a.event.at):
        earliest.setdefault(arming.dedupe_key, arming)
    armings = list(earliest.values())
    rows, notes = [], {}
    queries = [timers.CancelQuery(frozenset(c.kind for c in a.rule.unless), a.event.thread_key, a.event.message_id,
                                  a.event.contact.contact_id if a.event.contact else None, a.event.at)
               for a in armings]
    found = timers.candidates_for_many(session, [q for q in queries if q.kinds])
    candidates = iter(found)
    for arming, query in zip(armings, queries, strict=True):
        row = arming.row(now)
        late = lateness_verdict(arming.due_at, now, engine.options.grace)
        cancel = first_cancel(arming.rule, arming.event.at, next(candidates)) if query.kinds else None
        if cancel is not None:
            row.update(status="cancelled", closed_at=now, cancelled_by_id=cancel.interaction_id,
                       outcome=f"cancelled when armed: {cancel.text} (unless {cancel.kind})")
        elif late is not None:
            row.update(status="missed", closed_at=now, outcome=late)
        notes[arming.dedupe_key] = (arming, row)
        rows.append(row)
    inserted = timers.arm(session, rows)
    for key, timer_id in inserted.items():
        arming, row = notes[key]
        decision = "armed" if row["status"] == "pending" else row["status"]
        reasons = [*arming.reasons, *([row["outcome"]] if row["outcome"] else [])]
        timers.log(session, arming.rule.name, decision, now, timer_id=timer_id,
                   interaction_id=arming.event.interaction_id, reasons=reasons)
        (report.armed if decision == "armed" else report.born_closed).append(key)
    _move_back(session, [notes[key] for key in notes if key not in inserted], now, report)


def _move_back(session: Session, later: Sequence[tuple[Arming, dict]], now: datetime, report: ArmReport) -> None:
    """Existing pending timers whose event is later than a mail just stored: re-armed from that earlier mail."""
    existing = {t.dedupe_key: t for t in timers.pending_by_keys(session, [arming.dedupe_key for arming, _ in later])}
    for arming, row in later:
        timer = existing.get(arming.dedupe_key)
        if timer is None or timer.event_at <= arming.event.at:
            continue
        was = f"re-armed from an earlier mail (interaction {arming.event.interaction_id}) instead of " \
              f"interaction {timer.interaction_id}"
        for column in ("due_at", "event_at", "interaction_id", "thread_key", "contact_id", "deal_id", "payload",
                       "status", "closed_at", "outcome", "cancelled_by_id"):
            setattr(timer, column, row[column])
        decision = "armed" if timer.status == "pending" else timer.status
        reasons = [was, *arming.reasons, *([row["outcome"]] if row["outcome"] else [])]
        timers.log(session, arming.rule.name, decision, now, timer_id=timer.id,
                   interaction_id=arming.event.interaction_id, reasons=reasons)
        report.moved.append(arming.dedupe_key)


def _cancel_answered(session: Session, engine: RuleEngine, rows: Sequence[MailRow], now: datetime,
                     report: ArmReport) -> None:
    """A new reply, inbound mail or meeting cancels the pending timers whose `unless` it satisfies."""
    replies = [r for r in rows if r.counts_as_reply]
    reply_rules = engine.cancelled_by("reply")
    if replies and reply_rules:
        pending = timers.pending_for_replies(session, reply_rules, {r.thread_key for r in replies},
                                             {r.details.get("in_reply_to") for r in replies})
        for timer in pending:
            reply = next((r for r in sorted(replies, key=lambda r: r.occurred_at)
                          if r.occurred_at > timer.event_at and _same_thread(r, timer)), None)
            if reply is not None:
                _cancel(session, timer, now, f"reply in the thread from {_sender(reply)} "
                        f"(interaction {reply.interaction_id})", reply.interaction_id, report)
    by_contact = {"inbound_from_contact": [(r, p.contact_id) for r in replies for p in r.participants
                                           if p.role == "from" and p.contact_id],
                  "meeting_booked": [(r, p.contact_id) for r in rows
                                     if r.kind == "meeting" and r.status.upper() != "CANCELLED"
                                     for p in r.participants if p.contact_id]}
    for kind, pairs in by_contact.items():
        rules = engine.cancelled_by(kind)
        if not pairs or not rules:
            continue
        for timer in timers.pending_for_contacts(session, rules, {c for _, c in pairs}):
            cause = next((r for r, c in sorted(pairs, key=lambda p: p[0].occurred_at)
                          if c == timer.contact_id and r.occurred_at > timer.event_at), None)
            if cause is not None:
                what = "mail from the contact" if kind == "inbound_from_contact" else "meeting with the contact"
                why = f"{what} (interaction {cause.interaction_id})"
                _cancel(session, timer, now, why, cause.interaction_id, report)


def _cancel(session: Session, timer, now: datetime, why: str, by: int | None, report: ArmReport) -> None:
    if timer.id in report.cancelled or timer.status != "pending":
        return
    if timers.cancel(session, [timer.id], now, why, by):
        timer.status = "cancelled"
        report.cancelled.append(timer.id)
        timers.log(session, timer.rule, "cancelled", now, timer_id=timer.id, interaction_id=by, reasons=[why])


def _same_thread(reply: MailRow, timer) -> bool:
    """Same thread key, or a reply to the very mail that armed the timer (In-Reply-To)."""
    answered = reply.details.get("in_reply_to")
    return bool((reply.thread_key and reply.thread_key == timer.thread_key)
                or (answered and answered == (timer.payload or {}).get("message_id")))


def _sender(row: MailRow) -> str:
    return next((p.address for p in row.participants if p.role == "from"), "the client")
