"""The weekly (or any period's) activity report schedule rules send: counts, busiest companies, reply times.

Figures cover the period the schedule timer closes (``[start, end)``, from its payload); open and overdue tasks
are counted at firing time. The *reply time* is how long the company took to answer a client: for each inbound
mail of the period, the time until the first outbound mail in the same thread after it; the median is given.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent.store.models import Interaction, Participant
from agent.store.models_crm import Company, Contact
from agent.store.models_rules import Deal, Task, Timer
from agent.store.sql import chunks

TOP_COMPANIES = 10


def _period(timer: Timer) -> tuple[datetime, datetime]:
    period = (timer.payload or {}).get("period", {})
    end = datetime.fromisoformat(period["end"]) if period.get("end") else timer.due_at
    start = datetime.fromisoformat(period["start"]) if period.get("start") else end - timedelta(days=7)
    return start, end


def activity_report(session: Session, timer: Timer, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """The ``report`` template variable for a schedule timer."""
    start, end = _period(timer)
    in_period = (Interaction.occurred_at >= start, Interaction.occurred_at < end)
    counts = {(kind, direction): n for kind, direction, n in session.execute(
        select(Interaction.kind, Interaction.direction, func.count()).where(*in_period)
        .group_by(Interaction.kind, Interaction.direction))}
    sent = counts.get(("email", "out"), 0)
    received = counts.get(("email", "in"), 0)
    meetings = session.scalar(select(func.count()).select_from(Interaction).where(
        *in_period, Interaction.kind == "meeting", Interaction.status != "CANCELLED")) or 0
    new_contacts = session.scalar(select(func.count()).select_from(Contact).where(
        Contact.created_at >= start, Contact.created_at < end, Contact.merged_into_id.is_(None))) or 0
    tasks_open = session.scalar(select(func.count()).select_from(Task).where(Task.status == "open")) or 0
    tasks_overdue = session.scalar(select(func.count()).select_from(Task).where(
        Task.status == "open", Task.due_at < now)) or 0
    deals_won = session.scalar(select(func.count()).select_from(Deal).where(
        Deal.stage == "won", Deal.closed_at >= start, Deal.closed_at < end)) or 0
    companies = _busiest_companies(session, start, end)
    median = _median_reply_time(session, start, end)
    lines = [f"Du {start.astimezone(zone):%d/%m/%Y} au {end.astimezone(zone):%d/%m/%Y} : {sent} mails envoyés, "
             f"{received} reçus, {meetings} réunions, {new_contacts} nouveaux contacts.",
             f"Relances ouvertes : {tasks_open} (dont {tasks_overdue} en retard). Affaires gagnées : {deals_won}.",
             f"Délai de réponse médian aux clients : {_human(median) if median is not None else 'aucune réponse'}."]
    if companies:
        lines.append("Interactions par société :")
        lines.extend(f"  - {name} : {n}" for name, n in companies)
    return {"emails_sent": sent, "emails_received": received, "meetings": meetings, "new_contacts": new_contacts,
            "tasks_open": tasks_open, "tasks_overdue": tasks_overdue, "deals_won": deals_won,
            "summary": "\n".join(lines)}


def _busiest_companies(session: Session, start: datetime, end: datetime) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Company.name, func.count(func.distinct(Participant.interaction_id)))
        .join(Participant, Participant.company_id == Company.id)
        .join(Interaction, Interaction.id == Participant.interaction_id)
        .where(Interaction.occurred_at >= start, Interaction.occurred_at < end)
        .group_by(Company.name).order_by(func.count(func.distinct(Participant.interaction_id)).desc(), Company.name)
        .limit(TOP_COMPANIES)
    ).all()
    return [(name, n) for name, n in rows]


def _median_reply_time(session: Session, start: datetime, end: datetime) -> timedelta | None:
    inbound = session.execute(select(Interaction.thread_key, Interaction.occurred_at).where(
        Interaction.kind == "email", Interaction.direction == "in", Interaction.occurred_at >= start,
        Interaction.occurred_at < end)).all()
    if not inbound:
        return None
    threads = list({key for key, _ in inbound})
    outbound: dict[str, list[datetime]] = {}
    for part in chunks(threads, 500):
        for key, at in session.execute(select(Interaction.thread_key, Interaction.occurred_at).where(
                Interaction.kind == "email", Interaction.direction == "out", Interaction.thread_key.in_(part),
                Interaction.occurred_at >= start)):
            outbound.setdefault(key, []).append(at)
    delays = []
    for key, at in inbound:
        answers = [t for t in outbound.get(key, ()) if t > at]
        if answers:
            delays.append(min(answers) - at)
    return statistics.median(delays) if delays else None


def _human(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h".replace(".", ",")
    return f"{hours / 24:.1f} jours".replace(".", ",")

