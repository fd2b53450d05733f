"""EWS items → the bytes crm-agent's parsers read: mail as RFC 5322 (source or header block), meetings as iCalendar.

Mail, by visibility
    ``snippet`` / ``full``: the item's MimeContent, i.e. the message source, as IMAP would give it (on-premises
    EWS has no per-property permissions, and the parser then sees attachments and invitation parts).
    ``metadata`` / ``subject``: no body crosses the network; a header block is built from the item's fields,
    with the noise headers copied from InternetMessageHeaders.
Meetings
    Each item of the calendar folder (a single meeting or a recurring master) becomes one VCALENDAR: a single
    meeting is one VEVENT; a master becomes one VEVENT per occurrence and exception in the window (from a
    CalendarView, so Exchange itself expands the series), each with UID = the item's ``UID`` (the iCalendar UID,
    shared by the master and its occurrences) and RECURRENCE-ID = the occurrence's original start.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from agent.connectors.graph.documents import EventFields, MailFields, Person, header_block
from agent.records import Visibility

HEADER_FIELDS = (
    "message_id",
    "subject",
    "datetime_sent",
    "datetime_received",
    "author",
    "sender",
    "to_recipients",
    "cc_recipients",
    "bcc_recipients",
    "reply_to",
    "in_reply_to",
    "references",
    "headers",
)
SOURCE_FIELDS = ("mime_content", "datetime_received", "size")
CALENDAR_FIELDS = (
    "uid",
    "subject",
    "start",
    "end",
    "is_all_day",
    "location",
    "organizer",
    "required_attendees",
    "optional_attendees",
    "type",
    "is_cancelled",
    "modified_occurrences",
    "deleted_occurrences",
    "original_start",
    "last_modified_time",
    "_start_timezone",
    "_end_timezone",
)
VIEW_FIELDS = (
    "uid",
    "subject",
    "start",
    "end",
    "is_all_day",
    "location",
    "type",
    "is_cancelled",
    "original_start",
    "_start_timezone",
    "_end_timezone",
)
_PARTSTAT = {"Accept": "ACCEPTED", "Decline": "DECLINED", "Tentative": "TENTATIVE", "Organizer": "ACCEPTED"}


def mail_fields_for(visibility: Visibility) -> tuple[str, ...]:
    return HEADER_FIELDS if Visibility(visibility) in (Visibility.METADATA, Visibility.SUBJECT) else SOURCE_FIELDS


def _box(mailbox) -> tuple[str, str] | None:
    if mailbox is None or not getattr(mailbox, "email_address", None):
        return None
    return (mailbox.name or "", mailbox.email_address)


def _boxes(mailboxes) -> tuple[tuple[str, str], ...]:
    return tuple(b for b in (_box(m) for m in mailboxes or []) if b is not None)


def message_bytes(item, visibility: Visibility) -> bytes:
    """The bytes of a mail item fetched with ``mail_fields_for(visibility)``."""
    if Visibility(visibility) not in (Visibility.METADATA, Visibility.SUBJECT) and getattr(item, "mime_content", None):
        content = item.mime_content
        return content if isinstance(content, bytes) else str(content).encode("utf-8")
    author = _box(getattr(item, "author", None)) or _box(getattr(item, "sender", None))
    headers = tuple((h.name, h.value or "") for h in getattr(item, "headers", None) or [])
    sent = getattr(item, "datetime_sent", None) or getattr(item, "datetime_received", None)
    return header_block(
        MailFields(
            message_id=getattr(item, "message_id", None),
            subject=getattr(item, "subject", None) or "",
            date=utc(sent) if sent else None,
            from_=(author,) if author else (),
            to=_boxes(getattr(item, "to_recipients", None)),
            cc=_boxes(getattr(item, "cc_recipients", None)),
            bcc=_boxes(getattr(item, "bcc_recipients", None)),
            reply_to=_boxes(getattr(item, "reply_to", None)),
            in_reply_to=getattr(item, "in_reply_to", None),
            references=getattr(item, "references", None),
            extra=headers,
        )
    )


def utc(value: datetime | date) -> datetime | date:
    """Plain UTC datetime (or plain date) from exchangelib's EWSDateTime / EWSDate, which refuse stdlib zones."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return datetime(*value.timetuple()[:6], value.microsecond, tzinfo=UTC)
        return datetime.fromtimestamp(value.timestamp(), tz=UTC)
    return date(value.year, value.month, value.day)


def _people(attendees, role: str) -> list[Person]:
    out = []
    for attendee in attendees or []:
        box = _box(getattr(attendee, "mailbox", None))
        if box is not None:
            out.append(
                Person(box[1], box[0], role, _PARTSTAT.get(getattr(attendee, "response_type", ""), "NEEDS-ACTION"))
            )
    return out


def event_fields(item, *, uid: str, base=None, recurrence_id=None, description: str = "") -> EventFields | None:
    """One VEVENT from a calendar item; ``base`` (the master) supplies what an occurrence from a view lacks."""
    if item.start is None or item.end is None:
        return None
    source = item if getattr(item, "organizer", None) is not None or base is None else base
    organizer = _box(getattr(source, "organizer", None))
    attendees = _people(getattr(source, "required_attendees", None), "REQ-PARTICIPANT") + _people(
        getattr(source, "optional_attendees", None), "OPT-PARTICIPANT"
    )
    start, end = utc(item.start), utc(item.end)
    if not isinstance(end, datetime):
        end += timedelta(days=1)  # exchangelib gives an all-day event's last day; iCalendar's DTEND is exclusive
    return EventFields(
        uid=uid,
        start=start,
        end=end,
        summary=item.subject or "",
        location=item.location or "",
        description=description,
        status="CANCELLED" if getattr(item, "is_cancelled", False) else "CONFIRMED",
        recurrence_id=utc(recurrence_id) if recurrence_id is not None else None,
        organizer=Person(organizer[1], organizer[0]) if organizer else None,
        attendees=tuple(attendees),
        stamp=utc(getattr(source, "last_modified_time", None)) if getattr(source, "last_modified_time", None) else None,
    )


def occurrence_original_start(instance, master) -> datetime | date | None:
    """The slot an instance of a series was made for: its own start when unmodified, else the master's record of it."""
    if getattr(instance, "original_start", None) is not None:
        value = instance.original_start
    else:
        moved = {
            o.item_id.id: o.original_start
            for o in getattr(master, "modified_occurrences", None) or []
            if getattr(o, "item_id", None) is not None
        }
        value = moved.get(instance.id, instance.start)
    if getattr(master, "is_all_day", False) and isinstance(value, datetime):
        zone = getattr(master, "_start_timezone", None)
        return value.astimezone(zone).date() if zone is not None else value.date()
    return value
