"""Meetings for the Microsoft calendar tests, and the iCalendar a CalDAV server would serve for the same meetings.

The point: a meeting seen through EWS or Graph must land on the identity it has when seen through CalDAV
(UID, plus RECURRENCE-ID for an occurrence). ``caldav_ics`` writes a series the CalDAV way (master with RRULE and
EXDATE, moved occurrences as overrides), independently of the connectors' code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.pipeline.parse_ical import meeting_identity, parse_calendar
from tests.microsoft.mailbox import Attendee, Mailbox, StoredEvent

WEEKLY_UID = "040000008200E00074C5B7101A82E00800000000D0C1A0F3D2A5DC01000000000000000010000000A1B2C3D4"
SINGLE_UID = "crm-single-1@atelier-durand.fr"
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add_meetings(mailbox: Mailbox) -> tuple[StoredEvent, StoredEvent]:
    """A weekly series of 4 (the 2nd moved and renamed, the 3rd deleted) and a single meeting."""
    elodie = Attendee("elodie.martin@acme.fr", "Élodie Martin", required=True, response="Accept")
    paul = Attendee("paul@bureau-etudes.fr", "Paul Bernard", required=False, response="Tentative")
    weekly = mailbox.add_event(
        uid=WEEKLY_UID,
        subject="Point chantier Acme",
        start=_utc(2026, 10, 5, 9),
        end=_utc(2026, 10, 5, 10),
        attendees=[elodie, paul],
        location="Salle 2",
        every_days=7,
        count=4,
        overrides={
            _utc(2026, 10, 12, 9): {
                "start": _utc(2026, 10, 13, 14),
                "end": _utc(2026, 10, 13, 15),
                "subject": "Point chantier Acme (décalé)",
            }
        },
        deleted={_utc(2026, 10, 19, 9)},
    )
    single = mailbox.add_event(
        uid=SINGLE_UID,
        subject="Signature devis n°42",
        start=_utc(2026, 10, 7, 15),
        end=_utc(2026, 10, 7, 16),
        attendees=[elodie],
    )
    return weekly, single


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def caldav_ics(*events: StoredEvent) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//caldav//EN"]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{_stamp(event.start)}",
            f"DTEND:{_stamp(event.end)}",
            f"SUMMARY:{event.subject}",
        ]
        if event.is_series:
            lines.append(f"RRULE:FREQ=DAILY;INTERVAL={event.every_days};COUNT={event.count}")
            lines += [f"EXDATE:{_stamp(d)}" for d in sorted(event.deleted)]
        lines.append("END:VEVENT")
        for original, override in event.overrides.items():
            lines += [
                "BEGIN:VEVENT",
                f"UID:{event.uid}",
                "DTSTAMP:20260101T000000Z",
                f"RECURRENCE-ID:{_stamp(original)}",
                f"DTSTART:{_stamp(override['start'])}",
                f"DTEND:{_stamp(override['end'])}",
                f"SUMMARY:{override['subject']}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def meetings_of(data: bytes) -> set[tuple[str, datetime, datetime, str]]:
    """(identity, start, end, summary) of every occurrence the pipeline's parser finds."""
    parsed = parse_calendar(data, window_start=WINDOW[0], window_end=WINDOW[1], default_tz="UTC")
    return {(meeting_identity(m.uid, m.recurrence_id), m.start, m.end, m.summary) for m in parsed.occurrences}


def expected_identities() -> set[str]:
    return {
        f"ical:{WEEKLY_UID}#20261005T090000Z",
        f"ical:{WEEKLY_UID}#20261012T090000Z",
        f"ical:{WEEKLY_UID}#20261026T090000Z",
        f"ical:{SINGLE_UID}",
    }


def shift(value: datetime, days: int) -> datetime:
    return value + timedelta(days=days)
