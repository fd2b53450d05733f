"""Meeting-side reads and writes inside the caller's transaction: stored copies, iTIP replies, meeting.ended events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import Session

from agent.meetings.drafts import Reply, StoredCopy
from agent.pipeline.parse_ical import meeting_identity
from agent.store.models import Interaction, Participant, PendingRef, Sighting, SyncTarget
from agent.store.models_meetings import AgentEvent, MeetingReply, SeriesExpansion
from agent.store.sql import chunks, dialect_insert

MEETING_ENDED = "meeting.ended"


def stored_copies(session: Session, keys: Iterable[str]) -> dict[str, StoredCopy]:
    found: dict[str, StoredCopy] = {}
    for part in chunks(list(keys), 500):
        rows = session.execute(
            select(Interaction.identity_key, Interaction.content_hash, Interaction.details, Interaction.status)
            .where(Interaction.identity_key.in_(part), Interaction.kind == "meeting")
        )
        for key, content_hash, details, status in rows:
            details = details or {}
            found[key] = StoredCopy(content_hash, int(details.get("sequence", 0)), details.get("origin", ""), status)
    return found


def occurrences_sighted_at(session: Session, item_locations: Iterable[str],
                           ) -> dict[str, list[tuple[int, str, datetime]]]:
    """item location -> (interaction id, identity key, start) of the meetings sighted there."""
    found: dict[str, list[tuple[int, str, datetime]]] = {}
    for part in chunks(sorted(set(item_locations)), 500):
        rows = session.execute(
            select(Sighting.item_location, Interaction.id, Interaction.identity_key, Interaction.occurred_at)
            .join(Interaction, Interaction.id == Sighting.interaction_id)
            .where(Sighting.item_location.in_(part), Interaction.kind == "meeting")
        )
        for location, interaction_id, key, start in rows:
            found.setdefault(location, []).append((interaction_id, key, start))
    return found


def rename(session: Session, interaction_id: int, identity_key: str) -> None:
    """Give a stored occurrence the identity its slot has now (see CalendarHook._follow_moved_slots)."""
    session.execute(update(Interaction).where(Interaction.id == interaction_id).values(identity_key=identity_key))


def stored_keys(session: Session, keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(list(keys), 500):
        found.update(session.scalars(select(Interaction.identity_key).where(Interaction.identity_key.in_(part))))
    return found


def mark_expanded(session: Session, item_location: str, item_key: str, target_id: int, now: datetime) -> None:
    stmt = dialect_insert(session, SeriesExpansion)
    stmt = stmt.on_conflict_do_update(
        index_elements=["item_location"],
        set_={"expanded_at": stmt.excluded.expanded_at, "target_id": stmt.excluded.target_id,
              "item_key": stmt.excluded.item_key},
    )
    session.execute(stmt, [{"item_location": item_location, "item_key": item_key, "target_id": target_id,
                            "expanded_at": now}])


def requeue_aged_series(session: Session, before: datetime) -> dict[int, int]:
    """Queue again (as pending refs) the recurring calendar objects last expanded before ``before`` that are still
    present; returns target id -> how many. The next sync of the target fetches and expands them again."""
    still_there = exists().where(Sighting.item_location == SeriesExpansion.item_location)
    session.execute(delete(SeriesExpansion).where(~still_there))  # deleted objects need no new expansion
    rows = session.execute(
        select(SeriesExpansion.target_id, SeriesExpansion.item_location, SeriesExpansion.item_key,
               SyncTarget.listing_generation)
        .join(SyncTarget, SyncTarget.id == SeriesExpansion.target_id)
        .where(SeriesExpansion.expanded_at < before)
    ).all()
    if not rows:
        return {}
    pending = [{"target_id": target, "location": location, "key": key, "version": "", "generation": generation}
               for target, location, key, generation in rows]
    stmt = dialect_insert(session, PendingRef).on_conflict_do_nothing(index_elements=["target_id", "location"])
    session.execute(stmt, pending)
    counts: dict[int, int] = {}
    for target_id, *_ in rows:
        counts[target_id] = counts.get(target_id, 0) + 1
    return counts


def replies_for(session: Session, uids: Iterable[str]) -> list[Reply]:
    replies = []
    for part in chunks(sorted(set(uids)), 500):
        for row in session.scalars(select(MeetingReply).where(MeetingReply.uid.in_(part))):
            replies.append(Reply(row.uid, row.recurrence_id, row.address, row.partstat, row.sequence, row.replied_at))
    return replies


def record_reply(session: Session, reply: Reply, location: str) -> bool:
    """Keep the attendee's latest answer; True when this one is (or equals) the latest."""
    current = session.scalar(select(MeetingReply).where(
        MeetingReply.uid == reply.uid, MeetingReply.recurrence_id == reply.recurrence_id,
        MeetingReply.address == reply.address))
    if current is not None:
        if (reply.sequence, reply.replied_at) < (current.sequence, current.replied_at):
            return False
        current.partstat, current.sequence = reply.partstat, reply.sequence
        current.replied_at, current.source_location = reply.replied_at, location
        return True
    stmt = dialect_insert(session, MeetingReply).on_conflict_do_nothing(
        index_elements=["uid", "recurrence_id", "address"])
    session.execute(stmt, [{"uid": reply.uid, "recurrence_id": reply.recurrence_id, "address": reply.address,
                            "partstat": reply.partstat, "sequence": reply.sequence, "replied_at": reply.replied_at,
                            "source_location": location}])
    return True


def apply_reply_to_stored(session: Session, reply: Reply) -> list[int]:
    """Set the attendee's PARTSTAT on the stored occurrences this answer is about. Returns their interaction ids."""
    if reply.recurrence_id:
        where = Interaction.identity_key == meeting_identity(reply.uid, reply.recurrence_id)
    else:
        series = meeting_identity(reply.uid, None)
        occurrence = Interaction.identity_key.startswith(series + "#", autoescape=True)
        where = (Interaction.identity_key == series) | occurrence
    touched = []
    for interaction_id, details in session.execute(select(Interaction.id, Interaction.details).where(
            where, Interaction.kind == "meeting")):
        if int((details or {}).get("sequence", 0)) <= reply.sequence:
            touched.append(interaction_id)
    for part in chunks(touched, 500):
        session.execute(update(Participant).where(
            Participant.interaction_id.in_(part), Participant.address == reply.address, Participant.role == "attendee",
        ).values(partstat=reply.partstat))
    return touched


def emit_ended(session: Session, now: datetime, *, catch_up: timedelta, limit: int = 5000) -> list[int]:
    """Write one ``meeting.ended`` event per occurrence whose end has passed, once (unique key).

    Only ends that passed while the meeting was known (or at most ``catch_up`` before it was first seen) count:
    the first sync of a calendar does not turn two years of history into events. Cancelled and removed
    occurrences end nothing. Returns the interactions that got an event.
    """
    already = exists().where(AgentEvent.interaction_id == Interaction.id, AgentEvent.kind == MEETING_ENDED)
    rows = session.execute(
        select(Interaction.id, Interaction.identity_key, Interaction.occurred_at, Interaction.ends_at,
               Interaction.first_seen_at, Interaction.subject, Interaction.thread_key)
        .where(Interaction.kind == "meeting", Interaction.ends_at.is_not(None), Interaction.ends_at <= now,
               Interaction.removed_at.is_(None), Interaction.status != "CANCELLED", ~already)
        .order_by(Interaction.ends_at).limit(limit)
    ).all()
    events = []
    for interaction_id, key, start, end, first_seen, subject, thread in rows:
        if end < first_seen - catch_up:
            continue
        events.append({
            "kind": MEETING_ENDED, "key": f"{MEETING_ENDED}:{key}", "interaction_id": interaction_id,
            "payload": {"identity_key": key, "subject": subject, "thread_key": thread,
                        "start": start.isoformat(), "end": end.isoformat()},
            "occurred_at": end, "created_at": now,
        })
    if events:
        stmt = dialect_insert(session, AgentEvent).on_conflict_do_nothing(index_elements=["key"])
        session.execute(stmt, events)
    return [e["interaction_id"] for e in events]


def pending_events(session: Session, kind: str | None = None, limit: int = 500) -> list[AgentEvent]:
    """Events nobody consumed yet, oldest first (for the rule engine and tests)."""
    stmt = select(AgentEvent).where(AgentEvent.consumed_at.is_(None))
    if kind:
        stmt = stmt.where(AgentEvent.kind == kind)
    return list(session.scalars(stmt.order_by(AgentEvent.occurred_at, AgentEvent.id).limit(limit)))


def mark_consumed(session: Session, event_ids: Iterable[int], now: datetime) -> int:
    ids = list(event_ids)
    done = 0
    for part in chunks(ids, 500):
        done += session.execute(update(AgentEvent).where(
            and_(AgentEvent.id.in_(part), AgentEvent.consumed_at.is_(None))).values(consumed_at=now)).rowcount or 0
    return done
