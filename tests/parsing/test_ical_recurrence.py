"""Recurring series: window bounds, EXDATE, overrides (moved, changed, cancelled), COUNT/UNTIL, caps and refusals."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from agent.pipeline.parse_ical import CalendarParse, meeting_identity, parse_calendar

WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
MASTER = (
    "BEGIN:VEVENT\nUID:series\nDTSTART;TZID=Europe/Paris:20261005T100000\nDTEND;TZID=Europe/Paris:20261005T110000\n"
    "SUMMARY:Weekly\nRRULE:FREQ=WEEKLY;COUNT=6\n{extra}"
    "ATTENDEE;CN=Ann:mailto:ann@client.fr\nEND:VEVENT\n"
)


def parse(*components: str, window: tuple[datetime, datetime] = WINDOW, **options: object) -> CalendarParse:
    text = "BEGIN:VCALENDAR\nVERSION:2.0\n" + "".join(components) + "END:VCALENDAR\n"
    return parse_calendar(text.encode(), window_start=window[0], window_end=window[1], **options)  # type: ignore[arg-type]


def override(recurrence_id: str, start: str, end: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\nUID:series\nRECURRENCE-ID;TZID=Europe/Paris:{recurrence_id}\n"
        f"DTSTART;TZID=Europe/Paris:{start}\nDTEND;TZID=Europe/Paris:{end}\n{extra}END:VEVENT\n"
    )


def slots(result: CalendarParse) -> list[str | None]:
    return [meeting.recurrence_id for meeting in result.occurrences]


def test_every_occurrence_is_its_own_meeting_with_its_slot_identity() -> None:
    result = parse(MASTER.format(extra=""))
    assert slots(result) == [
        "20261005T080000Z", "20261012T080000Z", "20261019T080000Z",
        "20261026T090000Z", "20261102T090000Z", "20261109T090000Z",
    ]  # fmt: skip
    assert all(m.summary == "Weekly" and m.attendees[0].address == "ann@client.fr" for m in result.occurrences)
    assert result.series[0].recurring and result.series[0].occurrences == 6


@pytest.mark.parametrize(
    "exdate",
    [
        "EXDATE;TZID=Europe/Paris:20261019T100000\n",
        "EXDATE:20261019T080000Z\n",
        "EXDATE;TZID=Europe/Paris:20261019T100000,20261102T100000\n",
    ],
)
def test_exdate_removes_the_slot_whatever_its_spelling(exdate: str) -> None:
    result = parse(MASTER.format(extra=exdate))
    assert "20261019T080000Z" not in slots(result)
    assert len(result.occurrences) == (4 if "," in exdate else 5)


def test_a_moved_override_replaces_its_slot_and_keeps_the_slot_identity() -> None:
    moved = override(
        "20261012T100000", "20261013T150000", "20261013T163000",
        "SUMMARY:Moved\nATTENDEE;CN=Bob:mailto:bob@client.fr\nSEQUENCE:1\n",
    )  # fmt: skip
    result = parse(MASTER.format(extra=""), moved)
    by_slot = {m.recurrence_id: m for m in result.occurrences}
    assert len(result.occurrences) == 6
    moved_meeting = by_slot["20261012T080000Z"]
    assert moved_meeting.start == datetime(2026, 10, 13, 13, 0, tzinfo=UTC)
    assert moved_meeting.end - moved_meeting.start == timedelta(minutes=90)
    assert moved_meeting.summary == "Moved"
    assert [a.address for a in moved_meeting.attendees] == ["bob@client.fr"]
    assert not any(m.start == datetime(2026, 10, 12, 8, 0, tzinfo=UTC) for m in result.occurrences)


def test_a_cancelled_override_is_kept_with_status_cancelled() -> None:
    cancelled = override("20261019T100000", "20261019T100000", "20261019T110000", "STATUS:CANCELLED\n")
    result = parse(MASTER.format(extra=""), cancelled)
    statuses = {m.recurrence_id: m.status for m in result.occurrences}
    assert statuses["20261019T080000Z"] == "CANCELLED"
    assert list(statuses.values()).count("CONFIRMED") == 5
    assert result.cancelled_uids == ()  # one slot is cancelled, not the series


def test_an_override_moved_into_the_window_appears_and_one_moved_out_disappears() -> None:
    window = (datetime(2026, 10, 10, tzinfo=UTC), datetime(2026, 10, 20, tzinfo=UTC))
    into = override("20261026T100000", "20261016T100000", "20261016T110000")  # slot after the window, moved in
    out = override("20261012T100000", "20261130T100000", "20261130T110000")  # slot in the window, moved out
    result = parse(MASTER.format(extra=""), into, out, window=window)
    assert slots(result) == ["20261026T090000Z", "20261019T080000Z"]
    assert result.occurrences[0].start == datetime(2026, 10, 16, 8, 0, tzinfo=UTC)


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    window = (datetime(2026, 10, 12, 8, 0, tzinfo=UTC), datetime(2026, 10, 26, 9, 0, tzinfo=UTC))
    assert slots(parse(MASTER.format(extra=""), window=window)) == ["20261012T080000Z", "20261019T080000Z"]


def test_single_events_are_returned_whatever_the_window_but_series_are_not() -> None:
    old = "BEGIN:VEVENT\nUID:old\nDTSTART:20190301T090000Z\nDTEND:20190301T100000Z\nEND:VEVENT\n"
    result = parse(old, MASTER.format(extra=""), window=(datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC)))
    assert [meeting_identity(m.uid, m.recurrence_id) for m in result.occurrences] == ["ical:old"]
    assert result.uids == ("old", "series")


def test_until_is_inclusive_and_count_counts_from_dtstart() -> None:
    until = MASTER.format(extra="").replace("COUNT=6", "UNTIL=20261019T080000Z")
    assert slots(parse(until))[-1] == "20261019T080000Z"
    window = (datetime(2026, 10, 15, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert len(parse(MASTER.format(extra=""), window=window).occurrences) == 4


def test_rdate_adds_slots() -> None:
    result = parse(MASTER.format(extra="RDATE;TZID=Europe/Paris:20261231T160000\n"))
    assert slots(result)[-1] == "20261231T150000Z"


def test_this_and_future_override_shifts_later_slots_but_not_their_identity() -> None:
    shift = override("20261026T100000", "20261026T140000", "20261026T150000", "SEQUENCE:1\n")
    shift = shift.replace("RECURRENCE-ID;TZID", "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID")
    result = parse(MASTER.format(extra=""), shift)
    later = {m.recurrence_id: m.start.hour for m in result.occurrences}
    assert later["20261019T080000Z"] == 8
    assert later["20261026T090000Z"] == 13 and later["20261109T090000Z"] == 13


def test_the_master_with_the_highest_sequence_wins_and_duplicates_are_reported() -> None:
    newer = MASTER.format(extra="SEQUENCE:2\n").replace("SUMMARY:Weekly", "SUMMARY:Renamed")
    result = parse(MASTER.format(extra=""), newer)
    assert {m.summary for m in result.occurrences} == {"Renamed"}
    assert "uid:duplicate:series" in result.repairs


def test_of_two_overrides_for_one_slot_the_highest_sequence_wins() -> None:
    first = override("20261012T100000", "20261012T120000", "20261012T130000", "SEQUENCE:3\nSUMMARY:Newest\n")
    second = override("20261012T100000", "20261012T140000", "20261012T150000", "SEQUENCE:1\nSUMMARY:Older\n")
    result = parse(MASTER.format(extra=""), first, second)
    assert [m.summary for m in result.occurrences if m.recurrence_id == "20261012T080000Z"] == ["Newest"]


def test_max_occurrences_keeps_the_earliest_and_says_so() -> None:
    result = parse(MASTER.format(extra=""), max_occurrences=4)
    assert slots(result) == ["20261005T080000Z", "20261012T080000Z", "20261019T080000Z", "20261026T090000Z"]
    assert "rrule:truncated:4" in result.repairs


@pytest.mark.timeout(60)
def test_ten_thousand_occurrences_expand_quickly_and_are_capped() -> None:
    dense = (
        "BEGIN:VEVENT\nUID:dense\nDTSTART:20260101T000000Z\nDTEND:20260101T001500Z\n"
        "RRULE:FREQ=MINUTELY;INTERVAL=30;COUNT=10000\nEND:VEVENT\n"
    )
    began = time.perf_counter()
    capped = parse(dense)
    uncapped = parse(dense, max_occurrences=20000)
    elapsed = time.perf_counter() - began
    assert len(capped.occurrences) == 5000 and "rrule:truncated:5000" in capped.repairs
    assert len(uncapped.occurrences) == 10000 and not any(c.startswith("rrule:") for c in uncapped.repairs)
    assert len({m.recurrence_id for m in uncapped.occurrences}) == 10000
    print(f"two parses of a 10,000-occurrence rule: {elapsed:.2f} s")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("FREQ=SECONDLY", "rrule:too-dense"),
        ("FREQ=MINUTELY;COUNT=100000000", "rrule:too-dense"),
        ("FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23", "rrule:too-dense"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "rrule:invalid"),
        ("FREQ=HOURLY;BYYEARDAY=-367", "rrule:invalid"),
        ("FREQ=DAILY;BYHOUR=9,10;BYSETPOS=3", "rrule:invalid"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2", "rrule:invalid"),
        ("FREQ=MONTHLY;BYMONTH=2", "rrule:invalid"),  # dateutil's default BYMONTHDAY=30 (from DTSTART) never meets
        ("FREQ=FORTNIGHTLY", "rrule:invalid"),
        ("FREQ=DAILY;BYHOUR=25", "rrule:invalid"),
    ],
)
def test_hopeless_or_runaway_rules_are_refused_fast_and_the_neighbours_survive(rule: str, code: str) -> None:
    hostile = f"BEGIN:VEVENT\nUID:hostile\nDTSTART:19900130T000000Z\nDTEND:19900130T000001Z\nRRULE:{rule}\nEND:VEVENT\n"
    neighbour = "BEGIN:VEVENT\nUID:neighbour\nDTSTART:20260301T090000Z\nDTEND:20260301T100000Z\nEND:VEVENT\n"
    began = time.perf_counter()
    result = parse(hostile, neighbour)
    assert time.perf_counter() - began < 5
    assert f"{code}:hostile" in result.repairs
    assert "ical:neighbour" in {meeting_identity(m.uid, m.recurrence_id) for m in result.occurrences}


def test_an_invalid_rule_leaves_the_master_as_one_meeting() -> None:
    result = parse(MASTER.format(extra="").replace("FREQ=WEEKLY;COUNT=6", "FREQ=WEEKLY;INTERVAL=x;BYDAY=XX"))
    assert [m.recurrence_id for m in result.occurrences] == [None]
    assert "rrule:invalid:series" in result.repairs


def test_a_sparse_but_possible_rule_is_expanded() -> None:
    leap_monday = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"  # Monday 29 February: 2044, 2072, ...
    body = f"BEGIN:VEVENT\nUID:leap\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:{leap_monday}\nEND:VEVENT\n"
    result = parse(body, window=(datetime(2044, 1, 1, tzinfo=UTC), datetime(2045, 1, 1, tzinfo=UTC)))
    assert slots(result) == ["20440229T090000Z"]


def test_an_all_day_yearly_series_started_years_ago_gives_this_years_date() -> None:
    body = "BEGIN:VEVENT\nUID:bday\nDTSTART;VALUE=DATE:20150330\nRRULE:FREQ=YEARLY\nEND:VEVENT\n"
    result = parse(body)
    assert slots(result) == ["20260330"]
    meeting = result.occurrences[0]
    assert meeting.all_day and meeting.start == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


def test_a_cancel_of_the_whole_series_cancels_every_occurrence_and_names_the_uid() -> None:
    text = (
        "BEGIN:VCALENDAR\nMETHOD:CANCEL\n" + MASTER.format(extra="SEQUENCE:2\n") + "END:VCALENDAR\n"
    ).encode()
    result = parse_calendar(text, window_start=WINDOW[0], window_end=WINDOW[1])
    assert result.method == "CANCEL"
    assert {m.status for m in result.occurrences} == {"CANCELLED"}
    assert result.cancelled_uids == ("series",)
