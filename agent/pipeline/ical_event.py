"""Read one VEVENT into a ``SourceEvent``: zone-resolved times, people, texts, recurrence parts, and its repairs.

A component without a usable DTSTART cannot be placed on a timeline and is refused (``read_event`` returns None and
the repair says why); every other defect is repaired in place: a missing UID becomes a content hash, an unknown
TZID becomes the calendar's zone, a missing or backwards DTEND becomes the default length, a broken RRULE is
dropped so the event still counts once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from agent.matching.addresses import normalize_address
from agent.pipeline.ical_tz import ZoneResolver
from agent.records import Attendee

# The parser renames every TZID parameter to this before icalendar reads the file, so icalendar never looks a zone
# up (its lookups cache, warn and guess); this module resolves it instead, through the file's ZoneResolver.
TZID_PARAM = "X-CRM-TZID"
DEFAULT_TIMED_LENGTH = timedelta(hours=1)
DEFAULT_ALL_DAY_LENGTH = timedelta(days=1)
STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})
_HASH_FIELDS = ("DTSTART", "DTEND", "DURATION", "SUMMARY", "ORGANIZER", "LOCATION", "RRULE", "RECURRENCE-ID")

Moment = date | datetime  # a date for all-day values, otherwise an aware datetime


@dataclass(frozen=True, slots=True)
class TimeContext:
    """How to read times in one file: its zone resolver and the zone of floating times (X-WR-TIMEZONE or default)."""

    resolver: ZoneResolver
    calendar_zone: tzinfo
    calendar_zone_name: str
    shift_utc_to_calendar_zone: bool  # Google exports write UTC times plus X-WR-TIMEZONE for the wall clock


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One VEVENT as written (a master, an override or a lone event), times resolved, ready to expand."""

    uid: str
    start: Moment
    end: Moment
    tzid: str
    summary: str = ""
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"
    sequence: int = 0
    organizer: Attendee | None = None
    attendees: tuple[Attendee, ...] = ()
    recurrence_id: Moment | None = None
    this_and_future: bool = False
    rrules: tuple[Any, ...] = ()  # icalendar vRecur values, UNTIL not yet normalized
    exdates: tuple[Moment, ...] = ()
    rdates: tuple[Moment, ...] = ()
    repairs: tuple[str, ...] = ()

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrules or self.rdates)

    @property
    def length(self) -> timedelta:
        """How long each occurrence lasts, in real time.

        The elapsed time between DTSTART and DTEND; when a DST gap swallows it (02:30–03:30 on the spring-forward
        day is 03:30–03:30 by RFC 5545's reading of a missing local time) the written wall-clock length is kept,
        since a person booked an hour.
        """
        elapsed = self.end - self.start
        if isinstance(self.start, datetime) and isinstance(self.end, datetime):
            elapsed = self.end.astimezone(UTC) - self.start.astimezone(UTC)
            wall = self.end.replace(tzinfo=None) - self.start.replace(tzinfo=None)
            if elapsed <= timedelta(0) < wall:
                return wall
        return elapsed


def read_event(component: Any, times: TimeContext, repairs_out: list[str]) -> SourceEvent | None:
    """VEVENT → SourceEvent, or None (with a repair in ``repairs_out``) when it has no usable start."""
    repairs: list[str] = []
    uid = _text(component, "UID", repairs).strip()
    if not uid:
        uid = content_hash_uid(component)
        repairs.append(f"uid:missing:{uid}")
    start_prop = _single(component, "DTSTART", repairs)
    start = _moment(start_prop, times, repairs, "dtstart")
    if start is None:
        repairs_out.extend(repairs)
        repairs_out.append(f"component:skipped:{uid}:no-dtstart")
        return None
    tzid = _display_zone(start_prop, start, times)
    end = _end(component, start, times, repairs)
    recurrence_prop = _single(component, "RECURRENCE-ID", repairs)
    recurrence_id = _moment(recurrence_prop, times, repairs, "recurrence-id") if recurrence_prop is not None else None
    rrules = _rrules(component, uid, repairs)
    status = _text(component, "STATUS", repairs).strip().upper() or "CONFIRMED"
    if status not in STATUSES:
        repairs.append(f"status:unknown:{status[:40]}")
        status = "CONFIRMED"
    organizer_prop = _single(component, "ORGANIZER", repairs)
    organizer = attendee_from(organizer_prop, repairs) if organizer_prop is not None else None
    return SourceEvent(
        uid=uid,
        start=start,
        end=end,
        tzid=tzid,
        summary=_text(component, "SUMMARY", repairs),
        location=_text(component, "LOCATION", repairs),
        description=_text(component, "DESCRIPTION", repairs),
        status=status,
        sequence=_sequence(component, repairs),
        organizer=organizer,
        attendees=_attendees(component, repairs),
        recurrence_id=recurrence_id,
        this_and_future=recurrence_prop is not None and _param(recurrence_prop, "RANGE").upper() == "THISANDFUTURE",
        rrules=tuple(rrules),
        exdates=tuple(_moment_list(component, "EXDATE", times, repairs)),
        rdates=tuple(_moment_list(component, "RDATE", times, repairs)),
        repairs=tuple(dict.fromkeys(repairs)),
    )


def content_hash_uid(component: Any) -> str:
    """``hash:<24 hex>`` from the fields that say what the event is (not DTSTAMP, which changes on every export)."""
    digest = hashlib.sha256()
    for name in _HASH_FIELDS:
        values = component.get(name)
        for value in values if isinstance(values, list) else [values]:
            if value is None:
                continue
            params = sorted((str(k), str(v)) for k, v in getattr(value, "params", {}).items())
            try:
                raw = value.to_ical()
            except Exception:  # noqa: BLE001 — a broken value still hashes by its text
                raw = str(value).encode("utf-8", "replace")
            raw_text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            digest.update(f"{name}|{params}|{raw_text}\n".encode("utf-8", "replace"))
    return "hash:" + digest.hexdigest()[:24]


def attendee_from(prop: Any, repairs: list[str]) -> Attendee | None:
    """An ATTENDEE / ORGANIZER value → Attendee with a normalized address; None when no address can be found."""
    address = normalize_address(str(prop)) or normalize_address(_param(prop, "EMAIL"))
    if address is None:
        repairs.append("attendee:no-address")
        return None
    return Attendee(
        address=address,
        name=_param(prop, "CN").strip().strip('"').strip(),
        role=_param(prop, "ROLE").strip().upper(),
        partstat=_param(prop, "PARTSTAT").strip().upper(),
    )


def _attendees(component: Any, repairs: list[str]) -> tuple[Attendee, ...]:
    values = component.get("ATTENDEE")
    if values is None:
        return ()
    seen: dict[str, Attendee] = {}
    for value in values if isinstance(values, list) else [values]:
        attendee = attendee_from(value, repairs)
        if attendee is not None and attendee.address not in seen:
            seen[attendee.address] = attendee
    return tuple(seen.values())


def _single(component: Any, name: str, repairs: list[str]) -> Any:
    value = component.get(name)
    if isinstance(value, list):
        repairs.append(f"property:duplicate:{name}")
        return value[0] if value else None
    return value


def _text(component: Any, name: str, repairs: list[str]) -> str:
    value = _single(component, name, repairs)
    return "" if value is None else str(value)


def _param(prop: Any, name: str) -> str:
    value = getattr(prop, "params", {}).get(name, "")
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value)


def _sequence(component: Any, repairs: list[str]) -> int:
    value = _single(component, "SEQUENCE", repairs)
    if value is None:
        return 0
    try:
        return max(0, min(int(str(value).strip()), 2**31 - 1))
    except ValueError:
        repairs.append("sequence:unparseable")
        return 0


def _moment(prop: Any, times: TimeContext, repairs: list[str], what: str) -> Moment | None:
    if prop is None:
        return None
    try:
        value = prop.dt
    except Exception:  # noqa: BLE001 — icalendar keeps unparseable values as vBroken, which raises on .dt
        repairs.append(f"{what}:unparseable")
        return None
    if isinstance(value, tuple):  # a PERIOD: its start is the moment
        value = value[0]
    if not isinstance(value, date):
        repairs.append(f"{what}:unparseable")
        return None
    return localize(value, _param(prop, TZID_PARAM), times, repairs)


def localize(value: Moment, tzid: str, times: TimeContext, repairs: list[str]) -> Moment:
    """Attach the right zone to an icalendar value: TZID via the resolver, UTC kept, floating → calendar zone."""
    if not isinstance(value, datetime):
        return value
    wall = value.replace(tzinfo=None)
    if tzid:
        resolved = times.resolver.resolve(tzid)
        if resolved is None:
            repairs.append(f"tzid:unknown:{tzid.strip()[:80]}")
            return wall.replace(tzinfo=times.calendar_zone)
        return wall.replace(tzinfo=resolved[0])
    if value.tzinfo is not None:
        utc_value = wall.replace(tzinfo=UTC)
        return utc_value.astimezone(times.calendar_zone) if times.shift_utc_to_calendar_zone else utc_value
    repairs.append(f"tz:floating:{times.calendar_zone_name}")
    return wall.replace(tzinfo=times.calendar_zone)


def _display_zone(prop: Any, start: Moment, times: TimeContext) -> str:
    if not isinstance(start, datetime):
        return times.calendar_zone_name
    tzid = _param(prop, TZID_PARAM)
    if tzid:
        resolved = times.resolver.resolve(tzid)
        return resolved[1] if resolved is not None else times.calendar_zone_name
    if start.tzinfo is UTC:
        return "UTC"
    return times.calendar_zone_name


def _end(component: Any, start: Moment, times: TimeContext, repairs: list[str]) -> Moment:
    all_day = not isinstance(start, datetime)
    default = start + (DEFAULT_ALL_DAY_LENGTH if all_day else DEFAULT_TIMED_LENGTH)
    end_prop = _single(component, "DTEND", repairs)
    duration_prop = _single(component, "DURATION", repairs)
    if end_prop is not None:
        if duration_prop is not None:
            repairs.append("duration:ignored")
        end = _moment(end_prop, times, repairs, "dtend")
        if end is None:
            return default
        if isinstance(end, datetime) == all_day:
            repairs.append("dtend:type-mismatch")
            return default
        if end < start or (all_day and end == start):
            repairs.append("dtend:before-start")
            return default
        return end
    if duration_prop is not None:
        try:
            duration = duration_prop.dt
        except Exception:  # noqa: BLE001 — vBroken
            duration = None
        if not isinstance(duration, timedelta) or duration < timedelta(0):
            repairs.append("duration:unparseable")
            return default
        if all_day:
            return start + timedelta(days=max(1, duration.days + (1 if duration.seconds else 0)))
        return start + duration
    repairs.append("dtend:default")
    return default


def _rrules(component: Any, uid: str, repairs: list[str]) -> list[Any]:
    values = component.get("RRULE")
    if values is None:
        return []
    rules = []
    for value in values if isinstance(values, list) else [values]:
        if isinstance(value, dict) and value.get("FREQ"):
            rules.append(value)
        else:
            repairs.append(f"rrule:invalid:{uid}")
    return rules


def _moment_list(component: Any, name: str, times: TimeContext, repairs: list[str]) -> list[Moment]:
    values = component.get(name)
    if values is None:
        return []
    moments: list[Moment] = []
    for value in values if isinstance(values, list) else [values]:
        tzid = _param(value, TZID_PARAM)
        try:
            items = [item.dt for item in value.dts]
        except Exception:  # noqa: BLE001 — vBroken list
            repairs.append(f"{name.lower()}:unparseable")
            continue
        for item in items:
            if isinstance(item, tuple):  # RDATE;VALUE=PERIOD: the period's start is the occurrence
                item = item[0]
            if isinstance(item, date):
                moments.append(localize(item, tzid, times, repairs))
    return moments


@dataclass(frozen=True, slots=True)
class ReplyParts:
    """What an iTIP REPLY (or COUNTER) VEVENT says: who answered what, for which meeting or slot."""

    uid: str
    recurrence_id: Moment | None
    attendees: tuple[Attendee, ...]
    sequence: int


def read_reply(component: Any, times: TimeContext, repairs: list[str]) -> ReplyParts | None:
    """A REPLY needs no DTSTART, only the UID (and RECURRENCE-ID for one slot); None without a UID."""
    uid = _text(component, "UID", repairs).strip()
    if not uid:
        repairs.append("reply:no-uid")
        return None
    recurrence_prop = _single(component, "RECURRENCE-ID", repairs)
    recurrence_id = _moment(recurrence_prop, times, repairs, "recurrence-id")
    return ReplyParts(uid, recurrence_id, _attendees(component, repairs), _sequence(component, repairs))
