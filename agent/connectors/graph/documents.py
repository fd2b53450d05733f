"""Build the documents crm-agent's parsers read from a Microsoft item's fields: an RFC 5322 header block, an iCalendar.

Both Microsoft connectors (Graph and EWS) use these when the server gives fields rather than the source:

- ``header_block``: From/To/Cc/Bcc/Reply-To, Subject, Date, Message-ID, In-Reply-To, References, plus the
  headers the noise filter reads (List-Id, Auto-Submitted, Precedence...) copied from the server's header list.
  Display names and subjects are RFC 2047-encoded; line breaks in values are flattened (a subject is attacker
  text and must never add a header).
- ``icalendar_document``: one VCALENDAR holding one VEVENT per meeting or occurrence, with UID = the iCalendar UID
  and RECURRENCE-ID = the occurrence's original start, so ``agent.pipeline.parse_ical`` gives the same identity
  as for the same meeting seen through CalDAV or an emailed invitation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.header import Header
from email.utils import format_datetime, formataddr

import icalendar

# Headers the pipeline's noise filter and parser read besides the address/subject/date/id ones.
KEPT_HEADERS = frozenset(
    {
        "list-id",
        "list-unsubscribe",
        "precedence",
        "auto-submitted",
        "x-autoreply",
        "x-autorespond",
        "x-auto-response-suppress",
        "x-failed-recipients",
        "return-path",
        "content-type",
        "content-class",
    }
)
PRODID = "-//crm-agent//Microsoft connector//EN"

Address = tuple[str, str]  # (display name, address)


@dataclass(frozen=True, slots=True)
class MailFields:
    message_id: str | None
    subject: str = ""
    date: datetime | None = None
    from_: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    in_reply_to: str | None = None
    references: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # (name, value) from the server's copy of the original headers


def _flat(value: str) -> str:
    return " ".join(str(value).split())


def _encoded(value: str) -> str:
    value = _flat(value)
    return value if value.isascii() else Header(value, "utf-8").encode()


def _addresses(boxes: Iterable[Address]) -> str:
    out = []
    for name, address in boxes:
        address = _flat(address)
        if address:
            out.append(formataddr((_flat(name), address), charset="utf-8") if name and name != address else address)
    return ", ".join(out)


def _message_id(value: str | None) -> str | None:
    value = _flat(value or "")
    if not value:
        return None
    return value if value.startswith("<") else f"<{value}>"


def header_block(fields: MailFields) -> bytes:
    """The message's header block (ends with an empty line), as an IMAP ``BODY.PEEK[HEADER]`` would give it."""
    lines: list[tuple[str, str]] = []
    for name, boxes in (
        ("From", fields.from_),
        ("To", fields.to),
        ("Cc", fields.cc),
        ("Bcc", fields.bcc),
        ("Reply-To", fields.reply_to),
    ):
        text = _addresses(boxes)
        if text:
            lines.append((name, text))
    lines.append(("Subject", _encoded(fields.subject)))
    if fields.date is not None:
        lines.append(("Date", format_datetime(fields.date.astimezone(UTC))))
    for name, value in (
        ("Message-ID", _message_id(fields.message_id)),
        ("In-Reply-To", _message_id(fields.in_reply_to)),
    ):
        if value:
            lines.append((name, value))
    if fields.references and _flat(fields.references):
        lines.append(("References", _flat(fields.references)))
    seen = {name.lower() for name, _ in lines}
    for name, value in fields.extra:
        key = name.strip().lower()
        if key in KEPT_HEADERS and key not in seen:
            seen.add(key)
            lines.append((name.strip(), _encoded(value)))
    return ("".join(f"{name}: {value}\r\n" for name, value in lines) + "\r\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------- calendar


@dataclass(frozen=True, slots=True)
class Person:
    address: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"  # REQ-PARTICIPANT | OPT-PARTICIPANT | NON-PARTICIPANT | CHAIR
    partstat: str = "NEEDS-ACTION"  # ACCEPTED | DECLINED | TENTATIVE | NEEDS-ACTION


@dataclass(frozen=True, slots=True)
class EventFields:
    uid: str
    start: datetime | date
    end: datetime | date
    summary: str = ""
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"  # CONFIRMED | TENTATIVE | CANCELLED
    recurrence_id: datetime | date | None = None  # the occurrence's original start
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()
    stamp: datetime | None = None  # last modification; keeps the document stable between fetches


def _utc(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _person(person: Person, *, organizer: bool) -> icalendar.vCalAddress:
    value = icalendar.vCalAddress(f"mailto:{_flat(person.address)}")
    if person.name and person.name != person.address:
        value.params["CN"] = icalendar.vText(_flat(person.name))
    if not organizer:
        value.params["ROLE"] = icalendar.vText(person.role)
        value.params["PARTSTAT"] = icalendar.vText(person.partstat)
    return value


def icalendar_document(events: Iterable[EventFields]) -> bytes:
    """One VCALENDAR with a VEVENT per item (times in UTC, all-day events as dates)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    for fields in events:
        event = icalendar.Event()
        event.add("uid", fields.uid)
        event.add("dtstamp", _utc(fields.stamp or datetime(2000, 1, 1, tzinfo=UTC)))
        event.add("dtstart", _utc(fields.start))
        event.add("dtend", _utc(fields.end))
        if fields.recurrence_id is not None:
            event.add("recurrence-id", _utc(fields.recurrence_id))
        event.add("summary", _flat(fields.summary))
        if fields.location:
            event.add("location", _flat(fields.location))
        if fields.description:
            event.add("description", fields.description)
        event.add("status", fields.status)
        if fields.organizer is not None and fields.organizer.address:
            event.add("organizer", _person(fields.organizer, organizer=True))
        for attendee in fields.attendees:
            if attendee.address:
                event.add("attendee", _person(attendee, organizer=False))
        calendar.add_component(event)
    return calendar.to_ical()
