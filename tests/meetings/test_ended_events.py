"""meeting.ended: written once when an occurrence's end passes, durable across restarts, never for history the
first sync found, never for a cancelled or removed occurrence; consumed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.clock import FakeClock
from tests.meetings.support import calendar, vevent
from tests.support.env import make_service

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # Friday 09:00 in Paris


@pytest.fixture
def agenda(tmp_path):
    folder = tmp_path / "agenda"
    folder.mkdir()
    (folder / "past.ics").write_bytes(calendar(vevent("old@x.fr", "20260105T100000", "20260105T110000")))
    (folder / "today.ics").write_bytes(calendar(vevent("today@x.fr", "20261120T140000", "20261120T150000",
                                                       summary="Visite Lemaire")))
    (folder / "cancelled.ics").write_bytes(calendar(vevent("off@x.fr", "20261120T100000", "20261120T110000",
                                                           status="CANCELLED")))
    (folder / "series.ics").write_bytes(calendar(vevent("weekly@x.fr", "20261116T163000", "20261116T170000",
                                                        extra="RRULE:FREQ=DAILY;COUNT=10")))
    return folder


def service_at(tmp_path, folder, clock):
    return make_service(tmp_path, [{"name": "agenda", "kind": "ics", "path": str(folder)}], clock=clock)


def ended_keys(service) -> list[str]:
    return [e["key"].split(":", 1)[1] for e in service.feature("meetings").pending_events("meeting.ended")]


def test_each_end_is_emitted_once_and_history_is_not(tmp_path, agenda):
    clock = FakeClock(START)
    service = service_at(tmp_path, agenda, clock)
    # the first sync, on Friday 09:00: of the daily 16:30 occurrences since Monday only Thursday's ended within the
    # catch-up day; January's meeting is history
    assert service.sync()["meetings_ended"] == 1
    meetings = service.feature("meetings")
    assert ended_keys(service) == ["ical:weekly@x.fr#20261119T153000Z"]
    assert meetings.emit_ended()["emitted"] == 0
    clock.set(datetime(2026, 11, 20, 14, 30, tzinfo=UTC))  # 15:30 Paris: today's visit ended at 15:00
    assert meetings.emit_ended()["emitted"] == 1
    clock.set(datetime(2026, 11, 20, 16, 5, tzinfo=UTC))  # 17:05: Friday's 16:30 occurrence has ended too
    assert meetings.emit_ended()["emitted"] == 1
    keys = ended_keys(service)
    assert keys == ["ical:weekly@x.fr#20261119T153000Z", "ical:today@x.fr", "ical:weekly@x.fr#20261120T153000Z"]
    assert "ical:off@x.fr" not in keys  # cancelled meetings end nothing
    event = service.feature("meetings").pending_events("meeting.ended")[1]
    assert event["payload"]["subject"] == "Visite Lemaire" and event["occurred_at"] == "2026-11-20T14:00:00+00:00"
    service.close()


def test_a_restart_neither_loses_nor_repeats_events(tmp_path, agenda):
    clock = FakeClock(START)
    first = service_at(tmp_path, agenda, clock)
    first.sync()
    first.feature("meetings").emit_ended()
    first.close()
    clock.advance(timedelta(days=2))  # the agent was down over the weekend
    second = service_at(tmp_path, agenda, clock)
    emitted = second.feature("meetings").emit_ended()["emitted"]
    assert emitted == 3  # today's visit and Friday's and Saturday's occurrences, caught up at start-up
    assert second.feature("meetings").emit_ended()["emitted"] == 0
    assert len(ended_keys(second)) == 4
    second.close()


def test_removed_occurrences_end_nothing_and_consumption_is_once(tmp_path, agenda):
    clock = FakeClock(START)
    service = service_at(tmp_path, agenda, clock)
    service.sync()
    (agenda / "today.ics").unlink()
    service.sync()
    clock.set(datetime(2026, 11, 20, 14, 30, tzinfo=UTC))
    service.feature("meetings").emit_ended()
    assert "ical:today@x.fr" not in ended_keys(service)

    from agent.meetings import store

    with service.store.unit_of_work() as session:
        ids = [e.id for e in store.pending_events(session, "meeting.ended")]
        assert store.mark_consumed(session, ids, clock.now()) == len(ids)
        assert store.mark_consumed(session, ids, clock.now()) == 0
    assert ended_keys(service) == []
    service.close()
