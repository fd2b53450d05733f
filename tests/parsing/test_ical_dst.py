"""Europe/Paris daylight-saving changes (last Sunday of March and of October): wall times stay, UTC moves.

The change days are computed, not hard-coded, and checked for three years, so a wrong rule in the parser (or in a
VTIMEZONE it trusts) cannot hide behind one lucky date.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.pipeline.parse_ical import CalendarParse, parse_calendar

PARIS = ZoneInfo("Europe/Paris")
YEARS = (2025, 2026, 2027)


def last_sunday(year: int, month: int) -> date:
    last_day = calendar.monthrange(year, month)[1]
    day = date(year, month, last_day)
    return day - timedelta(days=(day.weekday() - calendar.SUNDAY) % 7)


def parse(body: str, year: int, header: str = "") -> CalendarParse:
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\n{header}{body}END:VCALENDAR\n"
    return parse_calendar(
        text.encode(),
        window_start=datetime(year, 1, 1, tzinfo=UTC),
        window_end=datetime(year + 1, 1, 1, tzinfo=UTC),
    )


def event(uid: str, start: str, end: str, extra: str = "", tzid: str = "Europe/Paris") -> str:
    zone = f";TZID={tzid}" if tzid else ""
    return f"BEGIN:VEVENT\nUID:{uid}\nDTSTART{zone}:{start}\nDTEND{zone}:{end}\n{extra}END:VEVENT\n"


def stamp(day: date, hour: int, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


def test_change_days_are_the_known_ones() -> None:
    assert last_sunday(2026, 3) == date(2026, 3, 29)
    assert last_sunday(2026, 10) == date(2026, 10, 25)
    assert last_sunday(2027, 3) == date(2027, 3, 28)


@pytest.mark.parametrize("year", YEARS)
def test_weekly_ten_oclock_stays_ten_oclock_across_the_october_change(year: int) -> None:
    change = last_sunday(year, 10)
    monday_before = change - timedelta(days=6)
    body = event("w", stamp(monday_before, 10), stamp(monday_before, 11), "RRULE:FREQ=WEEKLY;COUNT=3\n")
    meetings = parse(body, year).occurrences
    assert [m.start.astimezone(PARIS).time().hour for m in meetings] == [10, 10, 10]
    assert [m.start.hour for m in meetings] == [8, 9, 9]  # UTC: CEST (+2) before the change, CET (+1) after
    assert [m.end - m.start for m in meetings] == [timedelta(hours=1)] * 3
    assert meetings[1].recurrence_id == f"{monday_before + timedelta(days=7):%Y%m%d}T090000Z"


@pytest.mark.parametrize("year", YEARS)
def test_weekly_ten_oclock_stays_ten_oclock_across_the_march_change(year: int) -> None:
    change = last_sunday(year, 3)
    monday_before = change - timedelta(days=6)
    body = event("w", stamp(monday_before, 10), stamp(monday_before, 11), "RRULE:FREQ=WEEKLY;COUNT=3\n")
    meetings = parse(body, year).occurrences
    assert [m.start.astimezone(PARIS).hour for m in meetings] == [10, 10, 10]
    assert [m.start.hour for m in meetings] == [9, 8, 8]


@pytest.mark.parametrize("year", YEARS)
def test_an_event_at_0230_on_the_spring_forward_day_starts_at_0330_and_keeps_its_hour(year: int) -> None:
    change = last_sunday(year, 3)
    meeting = parse(event("gap", stamp(change, 2, 30), stamp(change, 3, 30)), year).occurrences[0]
    # RFC 5545 §3.3.5: a local time in the gap is read with the offset before the gap (+01:00): 01:30 UTC.
    assert meeting.start == datetime(change.year, change.month, change.day, 1, 30, tzinfo=UTC)
    assert meeting.start.astimezone(PARIS).strftime("%H:%M") == "03:30"
    assert meeting.end - meeting.start == timedelta(hours=1)


@pytest.mark.parametrize("year", YEARS)
def test_an_event_at_0230_on_the_fall_back_day_is_the_first_0230(year: int) -> None:
    change = last_sunday(year, 10)
    meeting = parse(event("twice", stamp(change, 2, 30), stamp(change, 3, 30)), year).occurrences[0]
    assert meeting.start == datetime(change.year, change.month, change.day, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert meeting.end == datetime(change.year, change.month, change.day, 2, 30, tzinfo=UTC)  # 03:30 CET


@pytest.mark.parametrize("year", YEARS)
def test_a_daily_0230_series_across_the_gap_never_ends_before_it_starts(year: int) -> None:
    change = last_sunday(year, 3)
    day_before = change - timedelta(days=1)
    body = event("daily", stamp(day_before, 2, 30), stamp(day_before, 3, 0), "RRULE:FREQ=DAILY;COUNT=3\n")
    meetings = parse(body, year).occurrences
    assert len(meetings) == 3
    assert all(m.end - m.start == timedelta(minutes=30) for m in meetings)
    assert [m.start.astimezone(PARIS).strftime("%H:%M") for m in meetings] == ["02:30", "03:30", "02:30"]


@pytest.mark.parametrize(("month", "hours"), [(3, 23), (10, 25)])
def test_an_all_day_event_on_a_change_day_runs_from_local_midnight_to_local_midnight(month: int, hours: int) -> None:
    change = last_sunday(2026, month)
    body = (
        "BEGIN:VEVENT\nUID:day\n"
        f"DTSTART;VALUE=DATE:{change:%Y%m%d}\nDTEND;VALUE=DATE:{change + timedelta(days=1):%Y%m%d}\nEND:VEVENT\n"
    )
    meeting = parse(body, 2026).occurrences[0]
    assert meeting.all_day
    assert meeting.start.astimezone(PARIS).strftime("%H:%M") == "00:00"
    assert meeting.end - meeting.start == timedelta(hours=hours)


@pytest.mark.parametrize("tzid", ["Europe/Paris", "Romance Standard Time", "/mozilla.org/20050126_1/Europe/Paris"])
def test_every_spelling_of_paris_follows_the_october_change(tzid: str) -> None:
    change = last_sunday(2026, 10)
    monday_before = change - timedelta(days=6)
    body = event("w", stamp(monday_before, 10), stamp(monday_before, 11), "RRULE:FREQ=WEEKLY;COUNT=2\n", tzid)
    meetings = parse(body, 2026).occurrences
    assert [m.start.hour for m in meetings] == [8, 9]
    assert all(m.tzid == "Europe/Paris" for m in meetings)


def test_an_outlook_vtimezone_under_a_display_name_follows_its_own_dst_rules() -> None:
    vtimezone = (
        "BEGIN:VTIMEZONE\nTZID:(UTC+01:00) Bruxelles\\, Copenhague\\, Madrid\\, Paris\n"
        "BEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\n"
        "BEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\n"
    )
    tzid = '"(UTC+01:00) Bruxelles, Copenhague, Madrid, Paris"'
    body = event("w", "20261019T100000", "20261019T110000", "RRULE:FREQ=WEEKLY;COUNT=2\n", tzid)
    result = parse(body, 2026, header=vtimezone)
    assert [m.start.hour for m in result.occurrences] == [8, 9]
    assert not any(code.startswith("tzid:unknown") for code in result.repairs)


def test_floating_times_follow_the_default_zone_across_the_change() -> None:
    body = event("f", "20261019T100000", "20261019T110000", "RRULE:FREQ=WEEKLY;COUNT=2\n", tzid="")
    result = parse(body, 2026)
    assert [m.start.hour for m in result.occurrences] == [8, 9]
    assert "tz:floating:Europe/Paris" in result.repairs


def test_google_utc_series_with_x_wr_timezone_keeps_its_local_wall_time() -> None:
    body = event("g", "20261019T080000Z", "20261019T090000Z", "RRULE:FREQ=WEEKLY;COUNT=2\n", tzid="")
    meetings = parse(body, 2026, header="X-WR-TIMEZONE:Europe/Paris\n").occurrences
    assert [m.start.astimezone(PARIS).hour for m in meetings] == [10, 10]
    without_x_wr = parse(body, 2026).occurrences  # plain RFC 5545: a UTC series stays at 08:00 UTC
    assert [m.start.hour for m in without_x_wr] == [8, 8]


def test_half_hourly_slots_in_the_spring_gap_collapse_onto_existing_instants() -> None:
    # 02:00 and 02:30 do not exist on the change day; read with the offset before the gap they are 03:00 and 03:30
    # CEST, which the rule also generates. RFC 5545 §3.8.5.3 counts duplicate instances once.
    change = last_sunday(2026, 3)
    body = event("halfhourly", stamp(change, 1, 0), stamp(change, 1, 15), "RRULE:FREQ=MINUTELY;INTERVAL=30;COUNT=8\n")
    meetings = parse(body, 2026).occurrences
    local = [m.start.astimezone(PARIS).strftime("%H:%M") for m in meetings]
    assert local == ["01:00", "01:30", "03:00", "03:30", "04:00", "04:30"]
    assert len({m.recurrence_id for m in meetings}) == len(meetings)
