"""EWS meetings: series expanded by Exchange's CalendarView land on the identities CalDAV gives the same meetings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.clock import FakeClock
from agent.connectors.ews.connector import EwsConnector
from agent.pipeline.parse_ical import parse_calendar
from agent.records import TargetRef
from tests.connectors.contract import list_all
from tests.microsoft.calendar_cases import WINDOW, add_meetings, caldav_ics, expected_identities, meetings_of
from tests.microsoft.fixtures import ews_spec, settings_for

CALENDAR = TargetRef("ews", "calendar", "calendar", "calendar")
NOW = datetime(2026, 10, 1, 8, tzinfo=UTC)


def connector(ews, workspace, clock=None, **extra) -> EwsConnector:
    account = settings_for(workspace, ews_spec(ews, "ews", **extra)).accounts[0]
    return EwsConnector(account, clock=clock or FakeClock(NOW))


def fetch_all(conn, refs) -> bytes:
    """Every fetched calendar object's VEVENTs, concatenated into one document for the parser."""
    events = []
    for raw in conn.fetch(CALENDAR, refs):
        assert raw.media_type == "text/calendar"
        text = raw.data.decode()
        events.append(text[text.index("BEGIN:VEVENT") : text.rindex("END:VCALENDAR")] if "BEGIN:VEVENT" in text else "")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def test_series_and_single_meetings_get_the_caldav_identities(ews_server, tmp_workspace):
    weekly, single = add_meetings(ews_server.mailbox)
    conn = connector(ews_server, tmp_workspace)
    assert conn.discover()[-1] == TargetRef("ews", "calendar", "calendar", "calendar", "Calendar")
    upserts, _, _, full = list_all(conn, CALENDAR, "")
    assert full and len(upserts) == 2  # the calendar folder lists the master and the single meeting
    from_ews = meetings_of(fetch_all(conn, upserts))
    assert from_ews == meetings_of(caldav_ics(weekly, single))
    assert {identity for identity, *_ in from_ews} == expected_identities()
    assert "FindItem" in ews_server.operations  # Exchange expanded the series (CalendarView)


def test_attendees_and_answers_come_through(ews_server, tmp_workspace):
    add_meetings(ews_server.mailbox)
    conn = connector(ews_server, tmp_workspace)
    upserts, _, _, _ = list_all(conn, CALENDAR, "")
    data = fetch_all(conn, upserts)
    parsed = parse_calendar(data, window_start=WINDOW[0], window_end=WINDOW[1], default_tz="UTC")
    moved = next(m for m in parsed.occurrences if m.recurrence_id == "20261012T090000Z")
    assert moved.summary == "Point chantier Acme (décalé)"
    assert moved.organizer is not None and moved.organizer.address == "claire@atelier-durand.fr"
    people = {a.address: (a.role, a.partstat, a.name) for a in moved.attendees}
    assert people == {
        "elodie.martin@acme.fr": ("REQ-PARTICIPANT", "ACCEPTED", "Élodie Martin"),
        "paul@bureau-etudes.fr": ("OPT-PARTICIPANT", "TENTATIVE", "Paul Bernard"),
    }


def test_a_changed_master_is_listed_again_and_a_deleted_one_reported(ews_server, tmp_workspace):
    weekly, single = add_meetings(ews_server.mailbox)
    conn = connector(ews_server, tmp_workspace)
    _, _, cursor, _ = list_all(conn, CALENDAR, "")
    ews_server.mailbox.update_event(weekly.id, subject="Point chantier Acme v2")
    ews_server.mailbox.delete_event(single.id)
    upserts, deletes, _, full = list_all(conn, CALENDAR, cursor)
    assert not full
    assert [r.location for r in upserts] == [f"ews/calendar/{weekly.id}"]
    assert deletes == [f"ews/calendar/{single.id}"]
    summaries = {summary for *_, summary in meetings_of(fetch_all(conn, upserts))}
    assert "Point chantier Acme v2" in summaries


def test_the_window_is_extended_by_a_new_full_listing_with_the_same_start(ews_server, tmp_workspace):
    add_meetings(ews_server.mailbox)
    clock = FakeClock(NOW)
    conn = connector(ews_server, tmp_workspace, clock=clock, calendar_future_days=60)
    first, _, cursor, _ = list_all(conn, CALENDAR, "")
    _, start, end = first[0].key.split("|")
    assert datetime.fromisoformat(end) == datetime(2026, 11, 30, tzinfo=UTC)
    clock.advance(timedelta(days=10))
    assert list_all(conn, CALENDAR, cursor)[3] is False  # still far from the end: incremental
    clock.advance(timedelta(days=25))
    assert conn.probe(CALENDAR, cursor) is True
    again, _, _, full = list_all(conn, CALENDAR, cursor)
    assert full and len(again) == 2
    _, start2, end2 = again[0].key.split("|")
    assert start2 == start and datetime.fromisoformat(end2) == datetime(2027, 1, 4, tzinfo=UTC)


def test_a_master_without_occurrence_in_the_window_gives_an_empty_calendar(ews_server, tmp_workspace):
    weekly, _ = add_meetings(ews_server.mailbox)
    ews_server.mailbox.update_event(
        weekly.id,
        start=datetime(2020, 1, 6, 9, tzinfo=UTC),
        end=datetime(2020, 1, 6, 10, tzinfo=UTC),
        overrides={},
        deleted=set(),
    )
    conn = connector(ews_server, tmp_workspace)
    upserts, _, _, _ = list_all(conn, CALENDAR, "")
    raws = {r.ref.location: r for r in conn.fetch(CALENDAR, upserts)}
    old = raws[f"ews/calendar/{weekly.id}"]
    assert b"BEGIN:VEVENT" not in old.data  # nothing in the window: stored occurrences of it are dropped


def test_an_all_day_meeting_keeps_its_local_dates(ews_server, tmp_workspace):
    # Exchange stores an all-day event as local midnights (here Paris, UTC+2 in October) and names the zone
    ews_server.mailbox.add_event(
        uid="salon-batimat",
        subject="Salon Batimat",
        all_day=True,
        start=datetime(2026, 10, 6, 22, tzinfo=UTC),
        end=datetime(2026, 10, 8, 22, tzinfo=UTC),
    )
    conn = connector(ews_server, tmp_workspace)
    upserts, _, _, _ = list_all(conn, CALENDAR, "")
    [raw] = list(conn.fetch(CALENDAR, upserts))
    assert b"DTSTART;VALUE=DATE:20261007" in raw.data
    assert b"DTEND;VALUE=DATE:20261009" in raw.data  # iCalendar's end is exclusive: two full days
