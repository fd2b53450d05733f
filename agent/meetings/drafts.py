"""Meeting occurrences → interaction drafts: participants with PARTSTAT, direction, what the visibility keeps (pure).

Also the two precedence rules that keep several copies of one meeting consistent:

- ``copy_wins``: a calendar copy, an emailed invitation and a later cancellation of the same occurrence land on one
  identity; the copy with the higher SEQUENCE wins, and at equal SEQUENCE a calendar copy or a cancellation beats
  an invitation (a calendar shows the meeting as it is now, an invitation as it was sent).
- ``apply_replies``: an attendee's iTIP REPLY answering this SEQUENCE (or a later one) sets that attendee's PARTSTAT,
  whichever copy the meeting came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from agent.matching.matcher import MatchPolicy
from agent.pipeline.parse_ical import meeting_identity
from agent.records import Direction, InteractionDraft, ParsedMeeting, ParticipantDraft, Role, Visibility

CALENDAR = "calendar"  # seen in a calendar (CalDAV, .ics folder, dropped .ics)
INVITATION = "invitation"  # carried by an email's text/calendar part
SNIPPET_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Reply:
    """An attendee's latest answer, as stored (see agent.store.models_meetings.MeetingReply)."""

    uid: str
    recurrence_id: str  # "" for the whole series
    address: str
    partstat: str
    sequence: int
    replied_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """What decides precedence about the copy already stored under an identity."""

    content_hash: str
    sequence: int
    origin: str
    status: str


def thread_of(uid: str) -> str:
    """Every occurrence of a series shares one thread, so a timeline can group them."""
    return f"ical:{uid}"


def direction_of(participants: Iterable[ParticipantDraft]) -> Direction:
    """INTERNAL without an outside participant; else OUT when we organize it (or nobody does), IN when they do."""
    people = list(participants)
    if not any(not p.is_internal for p in people):
        return Direction.INTERNAL
    organizer = next((p for p in people if p.role is Role.ORGANIZER), None)
    return Direction.IN if organizer is not None and not organizer.is_internal else Direction.OUT


def participants_of(meeting: ParsedMeeting, policy: MatchPolicy) -> list[ParticipantDraft]:
    people = []
    if meeting.organizer is not None:
        o = meeting.organizer
        people.append(ParticipantDraft(o.address, Role.ORGANIZER, o.name, policy.is_internal(o.address),
                                       partstat=o.partstat))
    for a in meeting.attendees:
        people.append(ParticipantDraft(a.address, Role.ATTENDEE, a.name, policy.is_internal(a.address),
                                       partstat=a.partstat or "NEEDS-ACTION"))
    return people


def meeting_draft(meeting: ParsedMeeting, policy: MatchPolicy, visibility: Visibility, origin: str) -> InteractionDraft:
    participants = participants_of(meeting, policy)
    details: dict = {"uid": meeting.uid, "sequence": meeting.sequence, "origin": origin, "all_day": meeting.all_day}
    if meeting.recurrence_id:
        details["recurrence_id"] = meeting.recurrence_id
    if meeting.tzid:
        details["tzid"] = meeting.tzid
    if meeting.location and visibility != Visibility.METADATA:
        details["location"] = meeting.location
    if meeting.method:
        details["method"] = meeting.method
    if meeting.repairs:
        details["repairs"] = list(meeting.repairs)
    roles = {(a.address, a.role) for a in meeting.attendees if a.role}
    if roles:
        details["roles"] = {address: role for address, role in sorted(roles)}
    text = meeting.description.strip()
    return InteractionDraft(
        identity_key=meeting_identity(meeting.uid, meeting.recurrence_id),
        kind="meeting",
        occurred_at=meeting.start,
        ends_at=meeting.end,
        subject=meeting.summary if visibility != Visibility.METADATA else "",
        direction=direction_of(participants),
        thread_key=thread_of(meeting.uid),
        participants=participants,
        snippet=text[:SNIPPET_LENGTH] if visibility in (Visibility.SNIPPET, Visibility.FULL) else "",
        body=text if visibility == Visibility.FULL else "",
        content_hash=meeting.content_hash,
        status=(meeting.status or "CONFIRMED").upper(),
        details=details,
    )


def copy_wins(draft: InteractionDraft, stored: StoredCopy | None) -> bool:
    """Should this copy replace the stored one? (see the module docstring)"""
    if stored is None:
        return True
    sequence = int(draft.details.get("sequence", 0))
    if sequence != stored.sequence:
        return sequence > stored.sequence
    if draft.details.get("origin") == CALENDAR or draft.status == "CANCELLED":
        return True
    return stored.origin != CALENDAR and stored.status != "CANCELLED"


def latest_replies(replies: Iterable[Reply]) -> dict[tuple[str, str, str], Reply]:
    """(uid, recurrence id, address) -> the attendee's latest answer (higher SEQUENCE, then later)."""
    latest: dict[tuple[str, str, str], Reply] = {}
    for reply in replies:
        key = (reply.uid, reply.recurrence_id, reply.address)
        current = latest.get(key)
        if current is None or (reply.sequence, reply.replied_at) >= (current.sequence, current.replied_at):
            latest[key] = reply
    return latest


def _newer(a: Reply, b: Reply) -> bool:
    return (a.sequence, a.replied_at) > (b.sequence, b.replied_at)


def apply_replies(draft: InteractionDraft, replies: dict[tuple[str, str, str], Reply]) -> bool:
    """Set attendees' PARTSTAT from their answers to this version; True (and a new content hash) when any changed."""
    uid = draft.details.get("uid", "")
    rid = draft.details.get("recurrence_id", "")
    sequence = int(draft.details.get("sequence", 0))
    applied = []
    for p in draft.participants:
        if p.role is not Role.ATTENDEE:
            continue
        reply = replies.get((uid, rid, p.address)) if rid else None
        series = replies.get((uid, "", p.address))
        if series is not None and (reply is None or _newer(series, reply)):
            reply = series
        if reply is not None and reply.sequence >= sequence and reply.partstat and reply.partstat != p.partstat:
            p.partstat = reply.partstat
            applied.append(f"{p.address}={reply.partstat}")
    if applied:
        seed = draft.content_hash + "|" + ",".join(sorted(applied))
        draft.content_hash = hashlib.sha256(seed.encode()).hexdigest()
    return bool(applied)
