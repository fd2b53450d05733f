"""Graph JSON → the fields the document builders take: messages to header fields, events to VEVENT fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.connectors.graph.documents import EventFields, MailFields, Person

# $select for a message read with Mail.ReadBasic: no body, no preview (the permission does not include them).
MESSAGE_FIELDS = (
    "internetMessageId",
    "subject",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "sentDateTime",
    "receivedDateTime",
    "internetMessageHeaders",
    "changeKey",
)
_PARTSTAT = {
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentativelyaccepted": "TENTATIVE",
    "organizer": "ACCEPTED",
}
_ROLE = {"required": "REQ-PARTICIPANT", "optional": "OPT-PARTICIPANT", "resource": "NON-PARTICIPANT"}


def parse_instant(value: str | None) -> datetime | None:
    """Graph's ``2026-10-05T09:00:00Z`` / ``...00.0000000`` (UTC when no offset is written)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _box(entry: dict | None) -> tuple[str, str] | None:
    address = (entry or {}).get("emailAddress") or {}
    if not address.get("address"):
        return None
    return (address.get("name") or "", address["address"])


def _boxes(entries: list | None) -> tuple[tuple[str, str], ...]:
    return tuple(box for box in (_box(e) for e in entries or []) if box is not None)


def message_fields(message: dict) -> MailFields:
    """A Graph message (read with the ``MESSAGE_FIELDS`` selection) as header fields."""
    headers = [(h.get("name", ""), h.get("value", "")) for h in message.get("internetMessageHeaders") or []]
    lookup = {name.lower(): value for name, value in reversed(headers)}
    author = _box(message.get("from")) or _box(message.get("sender"))
    return MailFields(
        message_id=message.get("internetMessageId"),
        subject=message.get("subject") or "",
        date=parse_instant(message.get("sentDateTime")) or parse_instant(message.get("receivedDateTime")),
        from_=(author,) if author else (),
        to=_boxes(message.get("toRecipients")),
        cc=_boxes(message.get("ccRecipients")),
        bcc=_boxes(message.get("bccRecipients")),
        reply_to=_boxes(message.get("replyTo")),
        in_reply_to=lookup.get("in-reply-to"),
        references=lookup.get("references"),
        extra=tuple(headers),
    )


def _event_time(value: dict | None, all_day: bool) -> datetime | date | None:
    """``{"dateTime": ..., "timeZone": ...}``; UTC was asked for, but a zone the server still names is honoured."""
    if not value or not value.get("dateTime"):
        return None
    moment = parse_instant(value["dateTime"])
    if moment is None:
        return None
    zone = value.get("timeZone") or "UTC"
    if zone.upper() != "UTC":
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a Windows zone name: keep the value as UTC rather than guess
    return moment.date() if all_day else moment


def event_fields(event: dict, uid: str, *, with_description: bool) -> EventFields | None:
    """A Graph event (single instance, occurrence or exception) as one VEVENT; None when it has no times."""
    all_day = bool(event.get("isAllDay"))
    start, end = _event_time(event.get("start"), all_day), _event_time(event.get("end"), all_day)
    if start is None or end is None:
        return None
    recurrence_id = None
    if event.get("type") in ("occurrence", "exception"):
        original = parse_instant(event.get("originalStart"))
        if original is not None:
            recurrence_id = original.date() if all_day else original
    organizer = _box(event.get("organizer"))
    attendees = []
    for attendee in event.get("attendees") or []:
        box = _box(attendee)
        if box is None:
            continue
        response = str(((attendee.get("status") or {}).get("response")) or "").lower()
        attendees.append(
            Person(
                box[1],
                box[0],
                _ROLE.get(str(attendee.get("type", "")).lower(), "REQ-PARTICIPANT"),
                _PARTSTAT.get(response, "NEEDS-ACTION"),
            )
        )
    body = event.get("body") or {}
    description = ""
    if with_description:
        description = body.get("content", "") if body.get("contentType") == "text" else event.get("bodyPreview", "")
    return EventFields(
        uid=uid,
        start=start,
        end=end,
        summary=event.get("subject") or "",
        location=((event.get("location") or {}).get("displayName")) or "",
        description=description or "",
        status="CANCELLED" if event.get("isCancelled") else "CONFIRMED",
        recurrence_id=recurrence_id,
        organizer=Person(organizer[1], organizer[0]) if organizer else None,
        attendees=tuple(attendees),
        stamp=parse_instant(event.get("lastModifiedDateTime")),
    )
