"""Invitations by mail: a REQUEST creates or updates the meeting of its UID, a CANCEL cancels it, a REPLY sets the
attendee's answer; the email itself is recorded as ``calendar:invitation``, never logged as an email of its own."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.clock import FakeClock
from agent.store.models import Interaction
from tests.meetings.support import calendar, invitation_mail, vevent
from tests.support.env import make_service, maildir_spec

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
UID = "visite-chantier-42@boulangerie-lemaire.fr"
CLIENT = "sophie@boulangerie-lemaire.fr"
CLAIRE = "claire@atelier-durand.fr"


def request(sequence: int = 0, *, claire: str = "NEEDS-ACTION", start: str = "20261126T100000", method: str = "REQUEST",
            status: str = "CONFIRMED", extra: str = "", recurrence_id: str | None = None) -> bytes:
    end = start[:9] + f"{int(start[9:11]) + 1:02d}" + start[11:]
    return calendar(vevent(UID, start, end, summary="Visite de chantier", organizer=CLIENT,
                           attendees=((CLAIRE, claire), (CLIENT, "ACCEPTED")), sequence=sequence, status=status,
                           extra=extra, recurrence_id=recurrence_id), method=method)


def mail(ics: bytes, n: int, *, sender: str = CLIENT, to: str = CLAIRE,
         subject: str = "Invitation : Visite de chantier", extra_headers: dict[str, str] | None = None) -> bytes:
    data = invitation_mail(ics, sender=sender, to=to, subject=subject, date=NOW - timedelta(days=10 - n),
                           message_id=f"invite-{n}@boulangerie-lemaire.fr")
    for name, value in (extra_headers or {}).items():
        data = f"{name}: {value}\r\n".encode() + data
    return data


class Mail:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.box = mailbox.Maildir(root, create=True)
        self.sent = self.box.add_folder("Sent")

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        box = self.box if folder == "INBOX" else self.sent
        for data in messages:
            box.add(data)


@pytest.fixture
def inbox(tmp_path):
    return Mail(tmp_path / "Mail")


def service_for(tmp_path, *accounts, clock=None):
    return make_service(tmp_path, list(accounts), clock=clock or FakeClock(NOW))


def meetings(service) -> list[dict]:
    return service.feature("meetings").list()


def emails(service) -> list:
    with service.store.read() as session:
        return list(session.scalars(select(Interaction.subject).where(Interaction.kind == "email")))


def test_request_then_cancel_by_mail(tmp_path, inbox):
    inbox.deliver(mail(request(0), 1))
    service = service_for(tmp_path, maildir_spec(inbox.root))
    result = service.sync()
    [meeting] = meetings(service)
    assert meeting["status"] == "CONFIRMED" and meeting["seen_in"] == ["local/INBOX"]
    assert meeting["direction"] == "in" and meeting["organizer"]["address"] == CLIENT
    assert emails(service) == []  # the invitation is the meeting, not a noise email
    assert result["targets"][0]["skipped"] == {"calendar": 1}
    why = service.explain("invite-1@boulangerie-lemaire.fr")
    assert why["found"] == "skipped" and why["reason"] == "calendar:invitation"
    assert why["detail"] == f"REQUEST → ical:{UID} (#{meeting['id']})"

    inbox.deliver(mail(request(1, method="CANCEL", status="CANCELLED"), 2, subject="Annulé : Visite de chantier"))
    service.sync()
    [cancelled] = meetings(service)
    assert cancelled["id"] == meeting["id"] and cancelled["status"] == "CANCELLED" and not cancelled["removed"]
    assert emails(service) == []
    service.close()


def test_an_old_request_read_after_the_cancel_does_not_revive_the_meeting(tmp_path, inbox):
    inbox.deliver(mail(request(1, method="CANCEL", status="CANCELLED"), 2), mail(request(0), 1))
    service = service_for(tmp_path, maildir_spec(inbox.root))
    service.sync()
    [meeting] = meetings(service)
    assert meeting["status"] == "CANCELLED"
    service.close()


@pytest.mark.parametrize("reply_first", [True, False])
def test_a_reply_sets_the_attendee_answer_whatever_the_order(tmp_path, inbox, reply_first):
    ours = calendar(vevent("point-7@atelier-durand.fr", "20261127T090000", "20261127T100000", summary="Point devis",
                           organizer=CLAIRE, attendees=((CLIENT, "NEEDS-ACTION"),)), method="REQUEST")
    answer = calendar(vevent("point-7@atelier-durand.fr", "20261127T090000", "20261127T100000", summary="Point devis",
                             organizer=CLAIRE, attendees=((CLIENT, "DECLINED"),)), method="REPLY")
    reply = mail(answer, 3, subject="Refusé : Point devis", sender=CLIENT, to=CLAIRE)
    request_mail = mail(ours, 2, subject="Point devis", sender=CLAIRE, to=CLIENT)
    # INBOX is synced before Sent: with the reply in INBOX it arrives before the meeting exists
    inbox.deliver(reply, folder="INBOX" if reply_first else "Sent")
    inbox.deliver(request_mail, folder="Sent" if reply_first else "INBOX")
    service = service_for(tmp_path, maildir_spec(inbox.root))
    service.sync()
    [meeting] = meetings(service)
    assert meeting["direction"] == "out"
    assert [(a["address"], a["partstat"]) for a in meeting["attendees"]] == [(CLIENT, "DECLINED")]
    assert emails(service) == []
    why = service.explain("invite-3@boulangerie-lemaire.fr")
    assert why["reason"] == "calendar:invitation" and f"{CLIENT}=DECLINED" in why["detail"]
    service.close()


def test_cancelling_one_occurrence_of_an_invited_series(tmp_path, inbox):
    series = request(0, start="20261105T100000", extra="RRULE:FREQ=WEEKLY;COUNT=4")
    one = request(1, start="20261112T100000", method="CANCEL", status="CANCELLED", recurrence_id="20261112T100000")
    inbox.deliver(mail(series, 1), mail(one, 2))
    service = service_for(tmp_path, maildir_spec(inbox.root))
    service.sync()
    rows = meetings(service)
    assert [(r["start"][:10], r["status"]) for r in rows] == [
        ("2026-11-05", "CONFIRMED"), ("2026-11-12", "CANCELLED"), ("2026-11-19", "CONFIRMED"),
        ("2026-11-26", "CONFIRMED")]
    service.close()


@pytest.mark.parametrize("calendar_first", [True, False])
def test_the_calendar_copy_and_the_invitation_are_one_meeting(tmp_path, inbox, calendar_first):
    folder = tmp_path / "agenda"
    folder.mkdir()
    (folder / "visite.ics").write_bytes(request(0, claire="ACCEPTED", method=""))
    inbox.deliver(mail(request(0), 1))
    agenda = {"name": "agenda", "kind": "ics", "path": str(folder)}
    accounts = [agenda, maildir_spec(inbox.root)] if calendar_first else [maildir_spec(inbox.root), agenda]
    service = service_for(tmp_path, *accounts)
    service.sync()
    [meeting] = meetings(service)
    assert meeting["seen_in"] == ["agenda/agenda", "local/INBOX"]
    # same SEQUENCE: the calendar copy (Claire accepted) wins over the invitation as it was sent
    assert {a["address"]: a["partstat"] for a in meeting["attendees"]}[CLAIRE] == "ACCEPTED"
    service.close()


def test_a_newer_invitation_moves_the_meeting(tmp_path, inbox):
    inbox.deliver(mail(request(0), 1))
    service = service_for(tmp_path, maildir_spec(inbox.root))
    service.sync()
    inbox.deliver(mail(request(1, start="20261126T140000"), 2, subject="Mis à jour : Visite de chantier"))
    result = service.sync()
    assert result["totals"]["updated"] == 1 and result["totals"]["created"] == 0
    [meeting] = meetings(service)
    assert meeting["start"] == "2026-11-26T14:00:00+01:00"
    assert meeting["seen_in"] == ["local/INBOX"]
    service.close()


def test_a_mailing_list_invitation_is_not_a_meeting(tmp_path, inbox):
    webinar = mail(request(0), 1, sender="webinaires@salon-agencement.fr",
                   extra_headers={"List-Unsubscribe": "<mailto:unsubscribe@salon-agencement.fr>"})
    inbox.deliver(webinar)
    service = service_for(tmp_path, maildir_spec(inbox.root))
    service.sync()
    assert meetings(service) == []
    service.close()


def test_a_calendar_part_without_itip_method_is_left_to_the_noise_filter(tmp_path, inbox):
    shared = mail(request(0, method="PUBLISH"), 1, subject="Nos dates de fermeture")
    inbox.deliver(shared)
    service = service_for(tmp_path, maildir_spec(inbox.root))
    service.sync()
    assert meetings(service) == []  # a published calendar file changes no meeting
    why = service.explain("invite-1@boulangerie-lemaire.fr")
    assert why.get("reason") != "calendar:invitation"
    service.close()


def test_a_reply_in_the_same_folder_as_the_request_reaches_the_new_meeting(tmp_path, inbox):
    """One folder holding both (Gmail's All Mail, a dropped mbox): the reply is read in the meeting's own batch."""
    ours = calendar(vevent("point-8@atelier-durand.fr", "20261127T090000", "20261127T100000", organizer=CLAIRE,
                           attendees=((CLIENT, "NEEDS-ACTION"),)), method="REQUEST")
    answer = calendar(vevent("point-8@atelier-durand.fr", "20261127T090000", "20261127T100000", organizer=CLAIRE,
                             attendees=((CLIENT, "TENTATIVE"),)), method="REPLY")
    inbox.deliver(mail(ours, 1, sender=CLAIRE, to=CLIENT), mail(answer, 2))
    service = service_for(tmp_path, maildir_spec(inbox.root))
    service.sync()
    [meeting] = meetings(service)
    assert meeting["attendees"][0]["partstat"] == "TENTATIVE"
    service.close()
