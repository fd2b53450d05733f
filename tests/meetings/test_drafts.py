"""Meeting drafts: participants and answers, direction, visibility, and the precedence rules between copies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.matching.matcher import MatchPolicy
from agent.meetings.drafts import (
    CALENDAR,
    INVITATION,
    Reply,
    StoredCopy,
    apply_replies,
    copy_wins,
    latest_replies,
    meeting_draft,
)
from agent.records import Attendee, Direction, ParsedMeeting, Role, Visibility

POLICY = MatchPolicy(own_domains=frozenset({"atelier-durand.fr"}))
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def meeting(*, organizer: str | None = "claire@atelier-durand.fr", attendees=(("client@acme.fr", "ACCEPTED"),),
            sequence: int = 0, status: str = "CONFIRMED", recurrence_id: str | None = None) -> ParsedMeeting:
    return ParsedMeeting(
        uid="u-1", recurrence_id=recurrence_id, summary="Visite de chantier", start=START,
        end=START + timedelta(hours=1),
        location="Lyon", description="Ordre du jour : métrés.\nMerci.", status=status,
        organizer=Attendee(organizer, "Orga") if organizer else None,
        attendees=tuple(Attendee(a, "", "REQ-PARTICIPANT", p) for a, p in attendees), sequence=sequence,
        content_hash=f"hash-{sequence}-{status}",
    )


def test_participants_keep_roles_names_and_answers():
    draft = meeting_draft(meeting(attendees=(("client@acme.fr", "TENTATIVE"), ("julien@atelier-durand.fr", ""))),
                          POLICY, Visibility.SNIPPET, CALENDAR)
    people = [(p.address, p.role, p.partstat, p.is_internal) for p in draft.participants]
    assert people == [("claire@atelier-durand.fr", Role.ORGANIZER, "", True),
                      ("client@acme.fr", Role.ATTENDEE, "TENTATIVE", False),
                      ("julien@atelier-durand.fr", Role.ATTENDEE, "NEEDS-ACTION", True)]  # RFC 5545 default
    assert draft.identity_key == "ical:u-1" and draft.kind == "meeting" and draft.thread_key == "ical:u-1"
    assert draft.ends_at - draft.occurred_at == timedelta(hours=1)
    assert draft.details["location"] == "Lyon" and draft.details["origin"] == CALENDAR


@pytest.mark.parametrize(("organizer", "attendees", "expected"), [
    ("claire@atelier-durand.fr", (("client@acme.fr", "ACCEPTED"),), Direction.OUT),
    ("client@acme.fr", (("claire@atelier-durand.fr", "ACCEPTED"),), Direction.IN),
    ("claire@atelier-durand.fr", (("julien@atelier-durand.fr", "ACCEPTED"),), Direction.INTERNAL),
    (None, (("client@acme.fr", "ACCEPTED"),), Direction.OUT),  # our own agenda entry with a client
    (None, (), Direction.INTERNAL),
])
def test_direction(organizer, attendees, expected):
    assert meeting_draft(meeting(organizer=organizer, attendees=attendees), POLICY, Visibility.SNIPPET,
                         CALENDAR).direction is expected


def test_visibility_levels():
    metadata = meeting_draft(meeting(), POLICY, Visibility.METADATA, CALENDAR)
    assert metadata.subject == "" and metadata.snippet == "" and "location" not in metadata.details
    snippet = meeting_draft(meeting(), POLICY, Visibility.SNIPPET, CALENDAR)
    assert snippet.subject == "Visite de chantier" and snippet.snippet.startswith("Ordre du jour")
    assert snippet.body == ""
    assert meeting_draft(meeting(), POLICY, Visibility.FULL, CALENDAR).body.endswith("Merci.")


def test_occurrence_identity_uses_the_recurrence_id():
    draft = meeting_draft(meeting(recurrence_id="20261126T090000Z"), POLICY, Visibility.SNIPPET, CALENDAR)
    assert draft.identity_key == "ical:u-1#20261126T090000Z"
    assert draft.thread_key == "ical:u-1"


def _draft(origin: str, sequence: int = 0, status: str = "CONFIRMED"):
    return meeting_draft(meeting(sequence=sequence, status=status), POLICY, Visibility.SNIPPET, origin)


@pytest.mark.parametrize(("draft", "stored", "wins"), [
    (_draft(INVITATION), None, True),
    (_draft(INVITATION, 2), StoredCopy("x", 1, CALENDAR, "CONFIRMED"), True),  # newer SEQUENCE wins whatever its origin
    (_draft(CALENDAR, 1), StoredCopy("x", 2, INVITATION, "CONFIRMED"), False),  # a stale calendar copy loses
    (_draft(INVITATION, 1), StoredCopy("x", 1, CALENDAR, "CONFIRMED"), False),  # same version: the calendar knows more
    (_draft(CALENDAR, 1), StoredCopy("x", 1, INVITATION, "CONFIRMED"), True),
    (_draft(INVITATION, 1), StoredCopy("x", 1, INVITATION, "CONFIRMED"), True),  # the same invitation again
    (_draft(INVITATION, 1, "CANCELLED"), StoredCopy("x", 1, CALENDAR, "CONFIRMED"), True),  # a cancellation is news
    (_draft(INVITATION, 1), StoredCopy("x", 1, INVITATION, "CANCELLED"), False),  # an old request does not revive it
])
def test_copy_precedence(draft, stored, wins):
    assert copy_wins(draft, stored) is wins


def _reply(partstat: str, *, sequence: int = 0, rid: str = "", minutes: int = 0, address: str = "client@acme.fr"):
    return Reply("u-1", rid, address, partstat, sequence, START - timedelta(days=1) + timedelta(minutes=minutes))


def test_replies_set_partstat_and_change_the_content_hash():
    draft = _draft(INVITATION)
    before = draft.content_hash
    replies = latest_replies([_reply("TENTATIVE"), _reply("DECLINED", minutes=5)])
    assert apply_replies(draft, replies) is True
    assert [p.partstat for p in draft.participants if p.role is Role.ATTENDEE] == ["DECLINED"]
    assert draft.content_hash != before
    again = _draft(INVITATION)
    apply_replies(again, replies)
    assert again.content_hash == draft.content_hash  # the same answers give the same hash: no spurious update


def test_an_answer_to_an_older_version_does_not_apply():
    draft = _draft(CALENDAR, sequence=3)
    assert apply_replies(draft, latest_replies([_reply("DECLINED", sequence=2)])) is False
    assert draft.participants[1].partstat == "ACCEPTED"


def test_an_occurrence_answer_beats_an_older_series_answer():
    draft = meeting_draft(meeting(recurrence_id="20261126T090000Z"), POLICY, Visibility.SNIPPET, CALENDAR)
    replies = latest_replies([_reply("ACCEPTED"), _reply("DECLINED", rid="20261126T090000Z", minutes=1)])
    apply_replies(draft, replies)
    assert draft.participants[1].partstat == "DECLINED"
    other = meeting_draft(meeting(recurrence_id="20261203T090000Z", attendees=(("client@acme.fr", "NEEDS-ACTION"),)),
                          POLICY, Visibility.SNIPPET, CALENDAR)
    apply_replies(other, replies)
    assert other.participants[1].partstat == "ACCEPTED"  # the series answer covers the other occurrences
