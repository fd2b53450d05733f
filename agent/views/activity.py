"""Activity read models for the status page: interactions per local day, the rule log, and work counts.

Per-day counts are grouped by UTC hour in SQL (a few thousand groups at most, whatever the number of rows) and
folded into local days here, so the count is right in any time zone whose offset is a whole number of hours
without pulling every row out of the database.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from agent.store.models import Interaction
from agent.store.models_rules import OutboxMessage, RuleFiring, Task, Timer


def _hour_bucket(session: Session):
    """A SQL expression naming the UTC hour of ``occurred_at`` as text 'YYYY-MM-DD HH' on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Interaction.occurred_at, "YYYY-MM-DD HH24")
    return func.substr(Interaction.occurred_at, 1, 13)  # SQLite stores 'YYYY-MM-DD HH:MM:SS[.ffffff]'


def activity_by_day(session: Session, zone: ZoneInfo, today: date, days: int) -> list[dict]:
    """Emails and meetings per local day for the ``days`` days ending with ``today`` (oldest first, gaps as 0)."""
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone).astimezone(UTC)
    bucket = _hour_bucket(session)
    rows = session.execute(
        select(bucket, Interaction.kind, func.count())
        .where(Interaction.occurred_at >= start, Interaction.occurred_at < end, Interaction.removed_at.is_(None))
        .group_by(bucket, Interaction.kind)
    ).all()
    counts: Counter[tuple[date, str]] = Counter()
    for hour_text, kind, count in rows:
        hour = datetime.strptime(str(hour_text), "%Y-%m-%d %H").replace(tzinfo=UTC)
        counts[(hour.astimezone(zone).date(), kind)] += count
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        out.append({"day": day.isoformat(), "emails": counts[(day, "email")], "meetings": counts[(day, "meeting")]})
    return out


def rule_firings(session: Session, zone: ZoneInfo, *, limit: int = 50, rule: str | None = None) -> list[dict]:
    """The newest entries of the rule log (armed, fired, cancelled...), newest first."""
    query = select(RuleFiring).order_by(RuleFiring.at.desc(), RuleFiring.id.desc()).limit(limit)
    if rule:
        query = query.where(RuleFiring.rule == rule)
    return [{"id": f.id, "rule": f.rule, "decision": f.decision, "at": f.at.astimezone(zone).isoformat(),
             "timer_id": f.timer_id, "interaction_id": f.interaction_id,
             "reasons": [str(r) for r in (f.reasons or [])]}
            for f in session.scalars(query)]


def last_firing_per_rule(session: Session, zone: ZoneInfo) -> dict[str, dict]:
    """For each rule, when it last fired (decision 'fired') and its newest decision of any kind."""
    fired: dict[str, datetime] = {}
    newest: dict[str, tuple[datetime, str]] = {}
    for rule, decision, at in session.execute(
        select(RuleFiring.rule, RuleFiring.decision, func.max(RuleFiring.at))
        .group_by(RuleFiring.rule, RuleFiring.decision)
    ).all():
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        if decision == "fired":
            fired[rule] = at
        if rule not in newest or at > newest[rule][0]:
            newest[rule] = (at, decision)
    return {rule: {"last_fired": fired[rule].astimezone(zone).isoformat() if rule in fired else None,
                   "last_event": at.astimezone(zone).isoformat(), "last_decision": decision}
            for rule, (at, decision) in newest.items()}


def work_counts(session: Session) -> dict:
    """Exact counts of open tasks, timers and outbox rows by status (for /metrics and the overview)."""
    return {
        "tasks_open": session.scalar(select(func.count()).select_from(Task).where(Task.status == "open")) or 0,
        "timers": dict(session.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()),
        "outbox": dict(session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()),
    }


def review_counts(session: Session) -> dict:
    """How many unknown senders and duplicate pairs wait for a person, counted in SQL (the overview shows only
    the numbers). Same rules as the review queues' listings: an unknown address that became a contact's is no
    longer waiting; a pair is waiting while both records are active and nobody said they differ."""
    from agent.store.models_crm import Company, Contact, ContactAddress
    from agent.store.models_matching import DuplicateCandidate, NotDuplicate, ReviewUnknown

    has_contact = exists().where(ContactAddress.address == ReviewUnknown.address)
    unknown = session.scalar(select(func.count()).select_from(ReviewUnknown)
                             .where(ReviewUnknown.status == "pending", ~has_contact)) or 0
    counts = {"unknown": unknown}
    for kind, model in (("contact", Contact), ("company", Company)):
        a, b = model.__table__.alias("a"), model.__table__.alias("b")
        refused = exists().where(NotDuplicate.kind == kind, or_(
            and_(NotDuplicate.a_id == DuplicateCandidate.a_id, NotDuplicate.b_id == DuplicateCandidate.b_id),
            and_(NotDuplicate.a_id == DuplicateCandidate.b_id, NotDuplicate.b_id == DuplicateCandidate.a_id)))
        counts[f"duplicate_{'contacts' if kind == 'contact' else 'companies'}"] = session.scalar(
            select(func.count()).select_from(DuplicateCandidate)
            .join(a, and_(a.c.id == DuplicateCandidate.a_id, a.c.merged_into_id.is_(None)))
            .join(b, and_(b.c.id == DuplicateCandidate.b_id, b.c.merged_into_id.is_(None)))
            .where(DuplicateCandidate.kind == kind, DuplicateCandidate.status == "pending", ~refused)) or 0
    return counts
