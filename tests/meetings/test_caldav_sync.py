"""Meetings through the whole pipeline from a real Radicale (and Xandikos): series, moves, cancellations, deletions,
edits in place, re-matched attendees, a refused sync-token, and one meeting seen in two calendars."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta

import caldav
import pytest
from sqlalchemy import func, select

from agent.clock import FakeClock
from agent.store.models import Interaction, Sighting
from tests.meetings.support import CLIENT, calendar, service_account, vevent
from tests.support.env import make_service

pytestmark = pytest.mark.servers

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
SERIES = "tilleuls-hebdo@atelier-durand.fr"
SERIES_ICS = calendar(
    vevent(SERIES, "20261020T093000", "20261020T103000", summary="Point hebdo chantier", extra="""
RRULE:FREQ=WEEKLY;UNTIL=20261208T083000Z
EXDATE;TZID=Europe/Paris:20261103T093000"""),
    vevent(SERIES, "20261118T140000", "20261118T150000", summary="Point hebdo (décalé)", sequence=1,
           recurrence_id="20261117T093000"),
    vevent(SERIES, "20261201T093000", "20261201T103000", summary="Point hebdo chantier", sequence=1,
           status="CANCELLED", recurrence_id="20261201T093000"),
)


class Calendar:
    """A Radicale calendar of one user, written through HTTP like a calendar program."""

    def __init__(self, radicale, user: str, name: str = "agenda") -> None:
        self.radicale, self.user, self.name = radicale, user, name
        radicale.write_ics_files(user, name, {}, displayname=name.title())
        self.url = radicale.user_url(user) + name + "/"
        self.client = caldav.DAVClient(radicale.user_url(user), username=user, password=radicale.users[user])

    def put(self, file_name: str, data: bytes) -> None:
        response = self.client.put(self.url + file_name, data.decode(), {"Content-Type": "text/calendar"})
        assert response.status in (201, 204)

    def delete(self, file_name: str) -> None:
        assert self.client.delete(self.url + file_name).status in (200, 204)


@pytest.fixture
def agenda(radicale, caldav_user):
    return Calendar(radicale, caldav_user)


@pytest.fixture
def clock():
    return FakeClock(NOW)


def make(tmp_workspace, radicale, user, clock, **extra):
    return make_service(tmp_workspace, [service_account(radicale, user, **extra)], clock=clock)


def by_start(service, **filters) -> list[dict]:
    return service.feature("meetings").list(**filters)


def test_a_series_becomes_one_meeting_per_occurrence_at_local_time(tmp_workspace, radicale, caldav_user, agenda, clock):
    agenda.put("series.ics", SERIES_ICS)
    service = make(tmp_workspace, radicale, caldav_user, clock)
    result = service.sync()
    assert result["totals"]["failed"] == 0 and result["totals"]["created"] == 7
    rows = by_start(service)
    starts = [(r["start"], r["status"], r["subject"]) for r in rows]
    assert starts == [
        ("2026-10-20T09:30:00+02:00", "CONFIRMED", "Point hebdo chantier"),  # summer time
        ("2026-10-27T09:30:00+01:00", "CONFIRMED", "Point hebdo chantier"),  # same wall time after the DST change
        ("2026-11-10T09:30:00+01:00", "CONFIRMED", "Point hebdo chantier"),  # 3 November: EXDATE
        ("2026-11-18T14:00:00+01:00", "CONFIRMED", "Point hebdo (décalé)"),  # the moved occurrence, in its new place
        ("2026-11-24T09:30:00+01:00", "CONFIRMED", "Point hebdo chantier"),
        ("2026-12-01T09:30:00+01:00", "CANCELLED", "Point hebdo chantier"),  # shown as cancelled, not removed
        ("2026-12-08T09:30:00+01:00", "CONFIRMED", "Point hebdo chantier"),
    ]
    moved = rows[3]
    assert moved["identity_key"] == f"ical:{SERIES}#20261117T083000Z"  # identity = the original slot
    assert moved["recurring"] and moved["attendees"][0]["partstat"] == "ACCEPTED"
    assert all(r["seen_in"] == ["agenda/Agenda"] for r in rows)
    service.close()


def test_edits_update_occurrences_in_place_and_deletion_keeps_history(tmp_workspace, radicale, caldav_user, agenda,
                                                                      clock):
    agenda.put("series.ics", SERIES_ICS)
    service = make(tmp_workspace, radicale, caldav_user, clock)
    service.sync()
    ids = [r["id"] for r in by_start(service)]
    agenda.put("series.ics", SERIES_ICS.replace(b"SUMMARY:Point hebdo chantier", b"SUMMARY:Point chantier Tilleuls"))
    result = service.sync()
    assert result["totals"]["created"] == 0
    rows = by_start(service)
    assert [r["id"] for r in rows] == ids
    assert [r["subject"] for r in rows].count("Point chantier Tilleuls") == 6
    again = service.sync()
    assert again["targets"][0]["listed"] == 0  # nothing changed: the sync-token lists nothing
    agenda.delete("series.ics")
    service.sync()
    rows = by_start(service)
    assert [r["id"] for r in rows] == ids and all(r["removed"] for r in rows)
    with service.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 0
    service.close()


def test_cancelling_the_series_cancels_every_occurrence(tmp_workspace, radicale, caldav_user, agenda, clock):
    agenda.put("series.ics", SERIES_ICS)
    service = make(tmp_workspace, radicale, caldav_user, clock)
    service.sync()
    cancelled = SERIES_ICS.replace(b"SEQUENCE:0\r\nSTATUS:CONFIRMED", b"SEQUENCE:2\r\nSTATUS:CANCELLED", 1)
    cancelled = cancelled.replace(b"SEQUENCE:1\r\nSTATUS:CONFIRMED", b"SEQUENCE:2\r\nSTATUS:CANCELLED")
    agenda.put("series.ics", cancelled)
    service.sync()
    assert {r["status"] for r in by_start(service)} == {"CANCELLED"}
    assert not any(r["removed"] for r in by_start(service))
    service.close()


def test_an_added_attendee_is_linked_to_their_contact(tmp_workspace, radicale, caldav_user, agenda, clock):
    (tmp_workspace / "contacts.csv").write_text(
        "Prénom;Nom;Email;Société\nPaul;Durif;paul@durif-bois.fr;Durif Bois\n", encoding="utf-8")
    single = vevent("visite@atelier-durand.fr", "20261126T100000", "20261126T110000", summary="Visite")
    agenda.put("visite.ics", calendar(single))
    service = make(tmp_workspace, radicale, caldav_user, clock)
    service.import_contacts(tmp_workspace / "contacts.csv")
    service.sync()
    [row] = by_start(service)
    assert [a["address"] for a in row["attendees"]] == [CLIENT]
    added = single.replace(f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:{CLIENT}",
                           f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:{CLIENT}\n"
                           "ATTENDEE;CN=Paul Durif;PARTSTAT=NEEDS-ACTION:mailto:paul@durif-bois.fr")
    agenda.put("visite.ics", calendar(added))
    assert service.sync()["totals"]["updated"] == 1
    [row] = by_start(service)
    paul = next(a for a in row["attendees"] if a["address"] == "paul@durif-bois.fr")
    assert paul["contact"]["name"] == "Paul Durif" and paul["contact"]["reason"] == "exact"
    assert service.contact("paul@durif-bois.fr")["timeline"][0]["kind"] == "meeting"
    service.close()


def test_a_refused_sync_token_resyncs_without_duplicates(tmp_workspace, radicale, caldav_user, agenda, clock):
    agenda.put("series.ics", SERIES_ICS)
    service = make(tmp_workspace, radicale, caldav_user, clock)
    service.sync()
    shutil.rmtree(radicale.calendar_dir(caldav_user, "agenda") / ".Radicale.cache")  # the server lost its tokens
    agenda.put("visite.ics", calendar(vevent("visite@atelier-durand.fr", "20261126T100000", "20261126T110000")))
    result = service.sync()
    target = result["targets"][0]
    assert target["full"] is True and target["error"] == "" and target["status"] == "ACTIVE"
    assert result["totals"]["created"] == 1  # the new event; the series is recognised, not duplicated
    with service.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 8
        assert session.scalar(select(func.count()).select_from(Sighting)) == 8
    service.close()


def test_one_meeting_in_two_calendars_is_one_interaction_with_two_sightings(tmp_workspace, radicale, clock):
    radicale.add_user("claire-cal", "pw-claire")
    radicale.add_user("client-cal", "pw-client")
    mine, theirs = Calendar(radicale, "claire-cal"), Calendar(radicale, "client-cal")
    event = calendar(vevent("rdv-1@atelier-durand.fr", "20261126T100000", "20261126T110000", summary="Rendez-vous"))
    mine.put("rdv.ics", event)
    theirs.put("imported-copy.ics", event.replace(b"PARTSTAT=ACCEPTED", b"PARTSTAT=TENTATIVE"))
    service = make_service(tmp_workspace, [service_account(radicale, "claire-cal", "claire"),
                                           service_account(radicale, "client-cal", "client")], clock=clock)
    result = service.sync()
    assert result["totals"]["created"] == 1
    [row] = by_start(service)
    assert row["seen_in"] == ["claire/Agenda", "client/Agenda"]
    service.close()


def test_meetings_list_filters_by_contact_and_local_days(tmp_workspace, radicale, caldav_user, agenda, clock):
    agenda.put("series.ics", SERIES_ICS)
    agenda.put("other.ics", calendar(vevent("autre@x.fr", "20261125T233000", "20261126T003000",
                                            attendees=(("autre@client.fr", "ACCEPTED"),))))
    service = make(tmp_workspace, radicale, caldav_user, clock)
    service.sync()
    meetings = service.feature("meetings")
    assert [r["start"][:10] for r in meetings.list(contact="autre@client.fr")] == ["2026-11-25"]
    # local days: the 23:30 meeting belongs to the 25th in Paris although it is the 25th 22:30 UTC
    days = [r["start"][:16] for r in meetings.list(since=date(2026, 11, 24), until=date(2026, 11, 26))]
    assert days == ["2026-11-24T09:30", "2026-11-25T23:30"]
    assert len(meetings.list(contact=CLIENT)) == 7
    service.close()


def test_xandikos_calendar_through_the_pipeline(tmp_workspace, xandikos, clock):
    client = caldav.DAVClient(xandikos.url)
    cal = client.principal().make_calendar(name="Chantiers", cal_id="chantiers-meetings")
    cal.add_event(SERIES_ICS.decode())
    account = {"name": "x", "kind": "caldav", "url": xandikos.principal_url, "calendars": ["Chantiers"]}
    service = make_service(tmp_workspace, [account], clock=clock)
    assert service.sync()["totals"]["created"] == 7
    assert service.sync()["targets"][0]["listed"] == 0
    assert [r["status"] for r in by_start(service)].count("CANCELLED") == 1
    service.close()


def test_moving_the_whole_series_updates_its_occurrences_in_place(tmp_workspace, radicale, caldav_user, agenda, clock):
    weekly = calendar(vevent("weekly@atelier-durand.fr", "20261103T093000", "20261103T103000", summary="Point",
                             extra="RRULE:FREQ=WEEKLY;COUNT=6\nEXDATE;TZID=Europe/Paris:20261117T093000"))
    agenda.put("weekly.ics", weekly)
    service = make(tmp_workspace, radicale, caldav_user, clock)
    service.sync()
    before = {r["start"][:10]: r["id"] for r in by_start(service)}
    assert len(before) == 5
    # 09:30 becomes 10:00: every RECURRENCE-ID changes, yet each day's meeting is the same interaction, updated
    later = weekly.replace(b"T093000", b"T100000").replace(b"T103000", b"T110000")
    agenda.put("weekly.ics", later)
    result = service.sync()
    assert result["totals"]["created"] == 0 and result["totals"]["updated"] == 5
    rows = by_start(service)
    assert {r["start"][:10]: r["id"] for r in rows} == before
    assert {r["start"][11:16] for r in rows} == {"10:00"} and not any(r["removed"] for r in rows)
    assert rows[0]["identity_key"] == "ical:weekly@atelier-durand.fr#20261103T090000Z"  # the new slot
    service.close()


def test_an_unedited_series_gains_its_next_occurrences_as_time_passes(tmp_workspace, radicale, caldav_user, agenda,
                                                                      clock):
    agenda.put("weekly.ics", calendar(vevent("forever@atelier-durand.fr", "20261102T080000", "20261102T090000",
                                             summary="Point du lundi", extra="RRULE:FREQ=WEEKLY")))
    service = make(tmp_workspace, radicale, caldav_user, clock, window_past_months=1, window_future_months=1)
    service.sync()
    first = by_start(service)
    assert first[0]["start"].startswith("2026-11-02") and first[-1]["start"].startswith("2026-12-14")
    clock.advance(timedelta(days=3))
    service.sync()
    assert len(by_start(service)) == len(first)  # expanded less than a week ago: nothing to do
    clock.advance(timedelta(days=60))  # two months later, nobody touched the series
    result = service.sync()
    assert result["targets"][0]["fetched"] == 1 and result["targets"][0]["error"] == ""  # queued again, fetched
    rows = by_start(service)
    assert rows[-1]["start"].startswith("2027-02-22")  # the horizon moved with the clock (22 January + 1 month)
    assert rows[0]["start"].startswith("2026-11-02") and not any(r["removed"] for r in rows)  # the past stays
    assert len({r["identity_key"] for r in rows}) == len(rows)
    service.close()


def test_a_resync_after_a_refused_token_keeps_events_edited_meanwhile(tmp_workspace, radicale, caldav_user, agenda,
                                                                     clock):
    agenda.put("visite.ics", calendar(vevent("visite@atelier-durand.fr", "20261126T100000", "20261126T110000",
                                             summary="Visite")))
    service = make(tmp_workspace, radicale, caldav_user, clock)
    service.sync()
    shutil.rmtree(radicale.calendar_dir(caldav_user, "agenda") / ".Radicale.cache")
    agenda.put("visite.ics", calendar(vevent("visite@atelier-durand.fr", "20261126T140000", "20261126T150000",
                                             summary="Visite (décalée)", sequence=1)))
    result = service.sync()
    assert result["targets"][0]["full"] is True
    [row] = by_start(service)
    assert row["subject"] == "Visite (décalée)" and not row["removed"]
    service.close()
