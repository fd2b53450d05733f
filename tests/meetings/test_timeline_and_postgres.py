"""A contact's timeline holds their emails and meetings in date order with local times; the meetings feature runs
the same on PostgreSQL (upserts, replies, events)."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta

import pytest

from agent.clock import FakeClock
from tests.meetings.support import CLIENT, calendar, invitation_mail, vevent
from tests.support.env import make_service, maildir_spec
from tests.support.messages import make_message

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def workspace(tmp_path):
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    box.add(make_message(1, sender=CLIENT, subject="Demande de devis", date=datetime(2026, 10, 26, 23, 30, tzinfo=UTC)))
    box.add(make_message(2, sender=CLIENT, subject="Relance", date=datetime(2026, 11, 18, 7, 0, tzinfo=UTC)))
    answer = calendar(vevent("pg-1@atelier-durand.fr", "20261120T100000", "20261120T110000",
                             attendees=((CLIENT, "TENTATIVE"),)), method="REPLY")
    box.add(invitation_mail(answer, sender=CLIENT, to="claire@atelier-durand.fr", subject="Provisoire : Métré",
                            date=NOW - timedelta(days=3), message_id="reply-pg@client.fr"))
    agenda = tmp_path / "agenda"
    agenda.mkdir()
    (agenda / "metre.ics").write_bytes(calendar(vevent("pg-1@atelier-durand.fr", "20261120T100000", "20261120T110000",
                                                       summary="Métré", attendees=((CLIENT, "NEEDS-ACTION"),))))
    (agenda / "pose.ics").write_bytes(calendar(vevent("pg-2@atelier-durand.fr", "20261027T083000", "20261027T093000",
                                                      summary="Pose")))
    return [maildir_spec(tmp_path / "Mail"), {"name": "agenda", "kind": "ics", "path": str(agenda)}]


def check(service) -> None:
    result = service.sync()
    assert result["totals"]["failed"] == 0
    timeline = service.contact(CLIENT)["timeline"]
    assert [(row["kind"], row["date"]) for row in timeline] == [
        ("meeting", "2026-11-20T10:00:00+01:00"),
        ("email", "2026-11-18T08:00:00+01:00"),
        ("meeting", "2026-10-27T08:30:00+01:00"),  # the first Tuesday of winter time
        ("email", "2026-10-27T00:30:00+01:00"),  # 23:30 UTC on the 26th is already the 27th in Paris
    ]
    assert timeline[0]["location"] == "Atelier" and timeline[0]["end"] == "2026-11-20T11:00:00+01:00"
    [metre] = service.feature("meetings").list(contact=CLIENT, since=datetime(2026, 11, 20).date())
    assert metre["attendees"][0]["partstat"] == "TENTATIVE"  # the reply read before the calendar object
    assert result["meetings_ended"] == 1  # the Métré ended this morning: within the catch-up day
    assert service.sync()["meetings_ended"] == 0


def test_contact_timeline_orders_emails_and_meetings_on_sqlite(tmp_path):
    service = make_service(tmp_path, workspace(tmp_path), clock=FakeClock(NOW))
    check(service)
    service.close()


@pytest.mark.servers
def test_the_same_on_postgresql(tmp_path, pg_url):
    service = make_service(tmp_path, workspace(tmp_path), clock=FakeClock(NOW), database=pg_url)
    check(service)
    service.close()
