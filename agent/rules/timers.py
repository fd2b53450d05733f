"""Timer rows: arm once per dedupe key, claim due ones under a lease, close them, and find what may cancel them.

Every function runs inside the caller's transaction. Arming is ``INSERT … ON CONFLICT DO NOTHING`` on the unique
dedupe key, so re-importing a mail (resync) or a second mailbox holding the same thread never arms twice. Claiming
is one indexed range read on (status, due_at) plus one UPDATE that takes the lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several agents share the work); closing is guarded by ``status = 'pending'``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from agent.rules.engine import CancelCandidate
from agent.rules.facts import is_rule_message_id, not_a_reply_ids
from agent.store.models import Interaction, Participant
from agent.store.models_rules import Deal, RuleFiring, Timer
from agent.store.sql import chunks, dialect_insert

CLOSED_STAGES = ("won", "lost")


def arm(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert the timers whose dedupe key is new; returns {dedupe_key: timer id} of those inserted now."""
    if not rows:
        return {}
    unique = list({row["dedupe_key"]: row for row in rows}.values())
    stmt = dialect_insert(session, Timer).on_conflict_do_nothing(index_elements=["dedupe_key"])
    inserted: dict[str, int] = {}
    for part in chunks(unique, 200):
        result = session.execute(stmt.values(list(part)).returning(Timer.dedupe_key, Timer.id))
        inserted.update((key, timer_id) for key, timer_id in result)
    return inserted


def pending_by_keys(session: Session, keys: Sequence[str]) -> list[Timer]:
    found: list[Timer] = []
    for part in chunks(list(keys), 500):
        found.extend(session.scalars(select(Timer).where(Timer.dedupe_key.in_(part), Timer.status == "pending")))
    return found


def log(session: Session, rule: str, decision: str, now: datetime, *, timer_id: int | None = None,
        interaction_id: int | None = None, reasons: Iterable[str] = ()) -> None:
    session.add(RuleFiring(rule=rule, decision=decision, timer_id=timer_id, interaction_id=interaction_id,
                           reasons=list(reasons), at=now))


def claim_due(session: Session, now: datetime, owner: str, lease: timedelta, limit: int,
              rules: Sequence[str], known_rules: Sequence[str]) -> list[int]:
    """Take the lease on up to ``limit`` due pending timers of ``rules`` (or of rules no longer configured, so
    they can be closed); oldest due first. Returns their ids."""
    rule_filter = or_(Timer.rule.in_(list(rules)), Timer.rule.not_in(list(known_rules))) if known_rules else True
    lease_free = or_(Timer.lease_until.is_(None), Timer.lease_until <= now)
    query = (select(Timer.id).where(Timer.status == "pending", Timer.due_at <= now, lease_free, rule_filter)
             .order_by(Timer.due_at, Timer.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    session.execute(update(Timer).where(Timer.id.in_(ids), Timer.status == "pending", lease_free)
                    .values(lease_owner=owner, lease_until=now + lease, attempts=Timer.attempts + 1))
    return ids


def lock(session: Session, timer_id: int, owner: str) -> Timer | None:
    """The timer, row-locked on PostgreSQL, when it is still pending and leased to ``owner``; else None."""
    query = select(Timer).where(Timer.id == timer_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    timer = session.scalar(query)
    if timer is None or timer.status != "pending" or timer.lease_owner != owner:
        return None
    return timer


def close(session: Session, timer: Timer, status: str, now: datetime, outcome: str = "",
          cancelled_by: int | None = None) -> None:
    timer.status = status
    timer.closed_at = now
    timer.outcome = outcome[:2000]
    timer.lease_owner = None
    timer.lease_until = None
    if cancelled_by is not None:
        timer.cancelled_by_id = cancelled_by


def cancel(session: Session, timer_ids: Iterable[int], now: datetime, outcome: str,
           cancelled_by: int | None = None) -> list[int]:
    """Cancel those still pending; returns the ids actually cancelled."""
    done: list[int] = []
    for part in chunks(list(timer_ids), 500):
        ids = list(session.scalars(select(Timer.id).where(Timer.id.in_(part), Timer.status == "pending")))
        if ids:
            session.execute(update(Timer).where(Timer.id.in_(ids), Timer.status == "pending").values(
                status="cancelled", closed_at=now, outcome=outcome[:2000], cancelled_by_id=cancelled_by,
                lease_owner=None, lease_until=None))
            done.extend(ids)
    return done


def release(session: Session, timer_id: int, owner: str) -> None:
    session.execute(update(Timer).where(Timer.id == timer_id, Timer.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None))


# ------------------------------------------------------------------------------------------- finding cancellers


def pending_for_replies(session: Session, rules: Sequence[str], thread_keys: Iterable[str],
                        message_ids: Iterable[str]) -> list[Timer]:
    """Pending timers of ``rules`` in one of the threads, or armed by one of the messages (In-Reply-To)."""
    thread_keys, message_ids = [k for k in thread_keys if k], [m for m in message_ids if m]
    if not rules or not (thread_keys or message_ids):
        return []
    found: dict[int, Timer] = {}
    base = select(Timer).where(Timer.status == "pending", Timer.rule.in_(list(rules)))
    for part in chunks(thread_keys, 500):
        found.update((t.id, t) for t in session.scalars(base.where(Timer.thread_key.in_(part))))
    for part in chunks(message_ids, 500):
        by_message = (base.join(Interaction, Interaction.id == Timer.interaction_id)
                      .where(Interaction.message_id.in_(part)))
        found.update((t.id, t) for t in session.scalars(by_message))
    return list(found.values())


def pending_for_contacts(session: Session, rules: Sequence[str], contact_ids: Iterable[int]) -> list[Timer]:
    ids = [c for c in contact_ids if c]
    if not rules or not ids:
        return []
    out: list[Timer] = []
    for part in chunks(ids, 500):
        out.extend(session.scalars(select(Timer).where(Timer.status == "pending", Timer.rule.in_(list(rules)),
                                                       Timer.contact_id.in_(part))))
    return out


@dataclass(frozen=True, slots=True)
class CancelQuery:
    """What may cancel one timer (or arming): ``kinds`` of its rule's `unless`, after its event (``after``)."""

    kinds: frozenset[str]
    thread_key: str | None
    message_id: str | None
    contact_id: int | None
    after: datetime


def candidates_for(session: Session, kinds: set[str], thread_key: str | None, message_id: str | None,
                   contact_id: int | None, after: datetime) -> list[CancelCandidate]:
    """Every cancel candidate of the given kinds for a timer (or an arming) whose event happened at ``after``."""
    return candidates_for_many(session, [CancelQuery(frozenset(kinds), thread_key, message_id, contact_id, after)])[0]


def candidates_for_many(session: Session, queries: Sequence[CancelQuery]) -> list[list[CancelCandidate]]:
    """``candidates_for`` of many queries in a few queries (a whole import batch arms at once).

    - ``reply``: inbound mail after the event in the thread (same thread key, or In-Reply-To the arming message),
      seen in any synced mailbox; auto-replies and bounces (never stored, or logged as not-a-reply) and our own
      rule mails do not count;
    - ``inbound_from_contact``: inbound mail from the contact; ``meeting_booked``: a meeting with the contact;
    - ``deal_closed``: the deal of the thread (else the contact's latest) is won or lost.
    """
    if not queries:
        return []
    need = frozenset().union(*(q.kinds for q in queries))
    replies = _reply_rows(session, queries) if "reply" in need else []
    people = _contact_rows(session, queries) if need & {"inbound_from_contact", "meeting_booked"} else []
    excluded = not_a_reply_ids(session, {r[0] for r in replies} | {r[0] for r in people})
    by_thread, by_contact = _deals(session, queries) if "deal_closed" in need else ({}, {})
    out: list[list[CancelCandidate]] = []
    for q in queries:
        found: list[CancelCandidate] = []
        seen: set[int] = set()
        if "reply" in q.kinds:
            for iid, at, thread, reply_to, mid, sender in replies:
                if at <= q.after or iid in seen or iid in excluded or is_rule_message_id(mid):
                    continue
                if (q.thread_key and thread == q.thread_key) or (q.message_id and reply_to == q.message_id):
                    seen.add(iid)
                    found.append(CancelCandidate("reply", at, iid, f"reply from {sender or 'the client'} on "
                                                 f"{at:%Y-%m-%d %H:%M} UTC (interaction {iid})"))
        for iid, kind, direction, at, status, mid, role, contact_id in people:
            if contact_id != q.contact_id or at <= q.after:
                continue
            if "inbound_from_contact" in q.kinds and kind == "email" and direction == "in" and role == "from" \
                    and iid not in excluded and not is_rule_message_id(mid):
                found.append(CancelCandidate("inbound_from_contact", at, iid,
                                             f"mail from the contact on {at:%Y-%m-%d %H:%M} UTC (interaction {iid})"))
            elif "meeting_booked" in q.kinds and kind == "meeting" and (status or "").upper() != "CANCELLED":
                found.append(CancelCandidate("meeting_booked", at, iid, f"meeting with the contact on "
                                             f"{at:%Y-%m-%d %H:%M} UTC (interaction {iid})"))
        if "deal_closed" in q.kinds:
            deal = by_thread.get(q.thread_key or "") or by_contact.get(q.contact_id or 0)
            if deal is not None and deal.stage in CLOSED_STAGES:
                found.append(CancelCandidate("deal_closed", deal.closed_at or deal.updated_at, None,
                                             f"deal {deal.id} \"{deal.name}\" is {deal.stage}"))
        out.append(found)
    return out


def _reply_rows(session: Session, queries: Sequence[CancelQuery]) -> list[tuple]:
    asking = [q for q in queries if "reply" in q.kinds]
    threads = sorted({q.thread_key for q in asking if q.thread_key})
    messages = sorted({q.message_id for q in asking if q.message_id})
    if not asking or not (threads or messages):
        return []
    after = min(q.after for q in asking)
    reply_to = Interaction.details["in_reply_to"].as_string()
    base = (select(Interaction.id, Interaction.occurred_at, Interaction.thread_key, reply_to, Interaction.message_id,
                   Participant.address)
            .outerjoin(Participant, and_(Participant.interaction_id == Interaction.id, Participant.role == "from"))
            .where(Interaction.kind == "email", Interaction.direction == "in", Interaction.occurred_at > after))
    rows: dict[int, tuple] = {}
    for part in chunks(threads, 500):  # by thread key: indexed
        rows.update((r[0], tuple(r)) for r in session.execute(base.where(Interaction.thread_key.in_(part))))
    for part in chunks(messages, 500):  # by In-Reply-To: read from the JSON details of mail after the event
        rows.update((r[0], tuple(r)) for r in session.execute(base.where(reply_to.in_(part))))
    return sorted(rows.values(), key=lambda r: (r[1], r[0]))


def _contact_rows(session: Session, queries: Sequence[CancelQuery]) -> list[tuple]:
    asking = [q for q in queries if q.contact_id and q.kinds & {"inbound_from_contact", "meeting_booked"}]
    if not asking:
        return []
    after = min(q.after for q in asking)
    rows: list[tuple] = []
    for part in chunks(sorted({q.contact_id for q in asking}), 500):
        rows.extend(tuple(r) for r in session.execute(
            select(Interaction.id, Interaction.kind, Interaction.direction, Interaction.occurred_at, Interaction.status,
                   Interaction.message_id, Participant.role, Participant.contact_id)
            .join(Participant, Participant.interaction_id == Interaction.id)
            .where(Participant.contact_id.in_(part), Interaction.occurred_at > after)))
    return sorted(rows, key=lambda r: (r[3], r[0]))


def _deals(session: Session, queries: Sequence[CancelQuery]) -> tuple[dict[str, Deal], dict[int, Deal]]:
    asking = [q for q in queries if "deal_closed" in q.kinds]
    by_thread: dict[str, Deal] = {}
    by_contact: dict[int, Deal] = {}
    for part in chunks(sorted({q.thread_key for q in asking if q.thread_key}), 500):
        for deal in session.scalars(select(Deal).where(Deal.thread_key.in_(part)).order_by(Deal.id)):
            by_thread[deal.thread_key] = deal  # the latest wins
    for part in chunks(sorted({q.contact_id for q in asking if q.contact_id}), 500):
        for deal in session.scalars(select(Deal).where(Deal.contact_id.in_(part)).order_by(Deal.id)):
            by_contact[deal.contact_id] = deal
    return by_thread, by_contact


def deal_for(session: Session, thread_key: str | None, contact_id: int | None) -> Deal | None:
    """The deal of the thread, else the contact's most recent one."""
    if thread_key:
        deal = session.scalar(select(Deal).where(Deal.thread_key == thread_key).order_by(Deal.id.desc()).limit(1))
        if deal is not None:
            return deal
    if contact_id:
        return session.scalar(select(Deal).where(Deal.contact_id == contact_id).order_by(Deal.id.desc()).limit(1))
    return None


# ------------------------------------------------------------------------------------------- reading


def _iso(value: datetime | None, zone) -> str | None:
    return value.astimezone(zone).isoformat() if value else None


def rules_for_interaction(session, interaction_id: int, zone) -> list[dict[str, Any]]:
    """What rules did because of an interaction: timers it armed or cancelled, and the rule log about it."""
    armed = session.scalars(select(Timer).where(Timer.interaction_id == interaction_id).order_by(Timer.id)).all()
    cancelled = session.scalars(select(Timer).where(Timer.cancelled_by_id == interaction_id).order_by(Timer.id)).all()
    why: dict[int, list[str]] = {}
    for timer_id, reasons in session.execute(select(RuleFiring.timer_id, RuleFiring.reasons).where(
            RuleFiring.timer_id.in_([t.id for t in armed]), RuleFiring.decision.in_(("armed", "cancelled", "missed")))
            .order_by(RuleFiring.id)):
        why.setdefault(timer_id, list(reasons))
    out = [{"rule": t.rule, "did": "armed", "timer": t.id, "status": t.status, "due_at": _iso(t.due_at, zone),
            "outcome": t.outcome, "why": why.get(t.id, [])} for t in armed]
    out += [{"rule": t.rule, "did": "cancelled", "timer": t.id, "status": t.status, "due_at": _iso(t.due_at, zone),
             "outcome": t.outcome} for t in cancelled]
    for entry in session.scalars(select(RuleFiring).where(RuleFiring.interaction_id == interaction_id,
                                                          RuleFiring.decision == "not-a-reply")):
        out.append({"rule": entry.rule or "(all rules)", "did": "ignored as a reply", "reasons": entry.reasons})
    for entry in out:
        if entry["did"] == "ignored as a reply":
            entry["text"] = f"not a reply for any rule: {'; '.join(entry['reasons'])}"
            continue
        due = f"due {entry['due_at'][:16].replace('T', ' ')}" if entry["due_at"] else ""
        entry["text"] = (f"{entry['rule']}: {entry['did']} timer {entry['timer']} ({due}), now {entry['status']}"
                         + (f" — {entry['outcome']}" if entry["outcome"] else ""))
    return out
