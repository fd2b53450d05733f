"""Parse iCalendar bytes into meeting occurrences, attendee replies and cancellations; never raises on bad input.

Entry points: ``parse_calendar`` (bytes → ``CalendarParse``) and ``meeting_identity`` / ``recurrence_id_text``.

Identity (the contract every source of meetings shares)
-------------------------------------------------------
A meeting is identified by its iCalendar UID, and one occurrence of a series by UID + RECURRENCE-ID:

- a single (non-recurring) event: ``ical:<uid>``;
- an occurrence of a series, or an override sent on its own: ``ical:<uid>#<recurrence id>``, where the recurrence
  id is the **original** start of the slot — the RECURRENCE-ID value, never the moved start — in UTC:
  ``20261102T090000Z``; for an all-day series it is the date: ``20261102``.

So a moved occurrence keeps its identity, and the same meeting seen through CalDAV (master + overrides), an emailed
invitation (METHOD:REQUEST carrying the master, or only the one override) or Exchange (EWS ``UID`` +
``OriginalStart`` converted with ``recurrence_id_text``) lands on the same key. A UID-less event gets
``hash:<sha256 prefix>`` of its defining fields as UID (repair ``uid:missing:…``), stable across re-exports.

Window
------
The window bounds the *expansion of recurring series*: each occurrence whose real start lies in
``[window_start, window_end)`` becomes its own ``ParsedMeeting`` (DST-correct, EXDATEs removed, overrides applied,
cancelled overrides kept with status CANCELLED). A non-recurring event, and an override that arrives without its
master, is one concrete meeting and is returned whatever its date. At most ``max_occurrences`` meetings are
returned, earliest first (repair ``rrule:truncated:<max_occurrences>``).

iTIP
----
``method`` is the calendar's METHOD. REQUEST / PUBLISH / ADD / none: occurrences. CANCEL: occurrences with status
CANCELLED, and ``cancelled_uids`` lists UIDs whose whole series (or single event) is cancelled. REPLY / COUNTER: no
occurrences (a reply carries one attendee, not the meeting), ``replies`` lists each attendee's PARTSTAT. REFRESH /
DECLINECOUNTER: nothing.

Modules: ``ical_lines`` (bytes → balanced lines), ``ical_blocks`` (lines → icalendar components, zones hidden from
icalendar), ``ical_tz`` (zones, per file), ``ical_event`` (one VEVENT → SourceEvent), ``ical_rrule`` (rules made
safe), ``ical_expand`` (series → occurrences). Repairs are stable codes ``<area>:<problem>[:<detail>]``, listed in
those modules' docstrings; a code starting with ``internal:`` means a bug (the tests assert none appears).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from agent.pipeline.ical_blocks import VTIMEZONE_ALIAS, read_blocks
from agent.pipeline.ical_event import SourceEvent, TimeContext, read_event, read_reply
from agent.pipeline.ical_expand import ExpandedOccurrence, Window, expand_series, prepare_rules, real_start
from agent.pipeline.ical_lines import clean_lines, decode_text
from agent.pipeline.ical_tz import ZoneResolver, vtimezone_definitions, well_known_zone, zone_name
from agent.records import Attendee, ParsedMeeting

_CHILDREN = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"})
_REPLY_METHODS = frozenset({"REPLY", "COUNTER"})
_SILENT_METHODS = frozenset({"REFRESH", "DECLINECOUNTER"})


@dataclass(frozen=True, slots=True)
class AttendeeReply:
    """One attendee's answer from an iTIP REPLY: ``recurrence_id`` None means the whole series or single event."""

    uid: str
    recurrence_id: str | None
    address: str
    partstat: str
    name: str = ""
    sequence: int = 0

    @property
    def identity(self) -> str:
        return meeting_identity(self.uid, self.recurrence_id)


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """One UID of the file: what its master says, how many occurrences it gave in the window."""

    uid: str
    recurring: bool
    rrules: tuple[str, ...] = ()  # as written
    status: str = ""  # the master's status ("" when only overrides were sent)
    sequence: int = 0
    summary: str = ""
    occurrences: int = 0  # in the window, before the max_occurrences cap


@dataclass(frozen=True, slots=True)
class CalendarParse:
    method: str = ""
    occurrences: tuple[ParsedMeeting, ...] = ()
    replies: tuple[AttendeeReply, ...] = ()
    series: tuple[SeriesInfo, ...] = ()
    cancelled_uids: tuple[str, ...] = ()
    uids: tuple[str, ...] = ()
    repairs: tuple[str, ...] = ()
    calendar_tz: str = ""


def meeting_identity(uid: str, recurrence_id: str | None) -> str:
    """``ical:<uid>`` for a single event, ``ical:<uid>#<recurrence id>`` for an occurrence (see module docstring)."""
    return f"ical:{uid}#{recurrence_id}" if recurrence_id else f"ical:{uid}"


def recurrence_id_text(value: date | datetime) -> str:
    """A slot's original start as identities spell it: ``20261102T090000Z`` (UTC), or ``20261102`` for a date.

    A naive datetime is taken as UTC; callers holding a local time must attach its zone first.
    """
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return f"{value.year:04d}{value.month:02d}{value.day:02d}T{value.hour:02d}{value.minute:02d}{value.second:02d}Z"
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def parse_calendar(
    data: bytes,
    *,
    window_start: datetime,
    window_end: datetime,
    default_tz: str = "Europe/Paris",
    max_occurrences: int = 5000,
) -> CalendarParse:
    """iCalendar bytes → ``CalendarParse``. Never raises: what could not be read is listed in ``repairs``."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes | str):
        return CalendarParse(repairs=("ical:unparseable",))
    try:
        return _Parse(data, window_start, window_end, default_tz, max_occurrences).run()
    except Exception as exc:  # noqa: BLE001 — the last line of defence; tests assert "internal:" never shows
        return CalendarParse(repairs=("ical:unparseable", f"internal:{type(exc).__name__}"))


@dataclass
class _Parse:
    data: bytes
    window_start: datetime
    window_end: datetime
    default_tz: str
    max_occurrences: int
    repairs: list[str] = field(default_factory=list)
    decode_repairs: list[str] = field(default_factory=list)

    def run(self) -> CalendarParse:
        window = Window(self._aware(self.window_start), self._aware(self.window_end))
        components = self._components()
        if components is None:
            return CalendarParse(repairs=tuple(dict.fromkeys([*self.decode_repairs, "ical:unparseable"])))
        header, children = components
        method = str(header.get("METHOD", "") or "").strip().upper()
        times = self._time_context(header, children)
        events = [child for root in children for child in root.walk("VEVENT")]
        if method in _REPLY_METHODS:
            return CalendarParse(
                method=method,
                replies=tuple(self._replies(events, times)),
                repairs=tuple(dict.fromkeys(self.repairs)),
                calendar_tz=times.calendar_zone_name,
            )
        sources = self._read_events(events, times)
        if method == "CANCEL":
            sources = [_replace_status(source, "CANCELLED") for source in sources]
        meetings: list[ParsedMeeting] = []
        series: list[SeriesInfo] = []
        if method not in _SILENT_METHODS:
            for uid, group in _group_by_uid(sources).items():
                found, info = self._occurrences_of(uid, group, window, times)
                meetings.extend(_meeting(occurrence, extra, times, method) for occurrence, extra in found)
                series.append(info)
        meetings.sort(key=lambda meeting: (meeting.start, meeting.uid, meeting.recurrence_id or ""))
        cap = max(self.max_occurrences, 0)
        if len(meetings) > cap:
            meetings = meetings[:cap]
            self.repairs.append(f"rrule:truncated:{cap}")
        return CalendarParse(
            method=method,
            occurrences=tuple(meetings),
            series=tuple(series),
            cancelled_uids=tuple(info.uid for info in series if info.status == "CANCELLED"),
            uids=tuple(info.uid for info in series),
            repairs=tuple(dict.fromkeys(self.repairs)),
            calendar_tz=times.calendar_zone_name,
        )

    # ------------------------------------------------------------------------------------------- reading

    def _components(self) -> tuple[Any, list[Any]] | None:
        """(calendar header, top-level child components), or None when the bytes hold no calendar at all."""
        text, self.decode_repairs = decode_text(self.data)
        self.repairs.extend(self.decode_repairs)
        cleaned = clean_lines(text, container="VCALENDAR", children=_CHILDREN)
        self.repairs.extend(cleaned.repairs)
        if not cleaned.found_container:
            return None
        blocks = read_blocks(cleaned, self.repairs)
        return blocks.header, list(blocks.children)

    def _time_context(self, header: Any, children: list[Any]) -> TimeContext:
        definitions = vtimezone_definitions([c for root in children for c in root.walk(VTIMEZONE_ALIAS)])
        resolver = ZoneResolver(definitions)
        default = well_known_zone(self.default_tz)
        if default is None:
            self.repairs.append(f"tz:default-unknown:{self.default_tz[:80]}")
            default = UTC
        zone, name, shift = default, zone_name(default), False
        x_wr = str(header.get("X-WR-TIMEZONE", "") or "").strip()
        if x_wr:
            resolved = resolver.resolve(x_wr)
            if resolved is None:
                self.repairs.append(f"x-wr-timezone:unknown:{x_wr[:80]}")
            else:
                zone, name = resolved
                shift = True
        return TimeContext(resolver, zone, name, shift)

    def _read_events(self, events: Iterable[Any], times: TimeContext) -> list[SourceEvent]:
        sources = []
        for component in events:
            for name, _message in getattr(component, "errors", ()):
                self.repairs.append(f"property:broken:{name}" if name else "line:unparseable")
            source = read_event(component, times, self.repairs)
            if source is not None:
                self.repairs.extend(source.repairs)
                sources.append(source)
        return sources

    def _replies(self, events: Iterable[Any], times: TimeContext) -> list[AttendeeReply]:
        replies = []
        for component in events:
            parts = read_reply(component, times, self.repairs)
            if parts is None:
                continue
            rid = recurrence_id_text(parts.recurrence_id) if parts.recurrence_id is not None else None
            for attendee in parts.attendees:
                reply = AttendeeReply(parts.uid, rid, attendee.address, attendee.partstat, attendee.name, parts.sequence)
                replies.append(reply)
        return replies

    # ------------------------------------------------------------------------------------------- occurrences

    def _occurrences_of(
        self, uid: str, group: list[SourceEvent], window: Window, times: TimeContext
    ) -> tuple[list[tuple[ExpandedOccurrence | SourceEvent, tuple[str, ...]]], SeriesInfo]:
        masters = [source for source in group if source.recurrence_id is None]
        overrides = _latest_per_slot([source for source in group if source.recurrence_id is not None])
        if len(masters) > 1:
            self.repairs.append(f"uid:duplicate:{uid}")
        master = _latest(masters)
        found: list[tuple[ExpandedOccurrence | SourceEvent, tuple[str, ...]]] = []
        recurring = False
        if master is not None and master.is_recurring:
            prepared = prepare_rules(master, window, times.calendar_zone, _density_limit(self.max_occurrences))
            self.repairs.extend(prepared.repairs)
            # A series whose every rule was invalid (and has no RDATE) still happened once: it becomes a single event.
            recurring = prepared.too_dense or bool(prepared.rules or master.rdates)
            if recurring and not prepared.too_dense:
                try:
                    expanded = expand_series(master, prepared.rules, overrides, window, times.calendar_zone)
                except Exception as exc:  # noqa: BLE001 — a series the library cannot expand is skipped, not fatal
                    self.repairs.append(f"series:skipped:{uid}:{type(exc).__name__}")
                    expanded = []
                found = [(occurrence, prepared.repairs) for occurrence in _one_per_slot(expanded)]
        if not recurring:
            # A single event, or overrides sent without their master: concrete meetings, whatever the window.
            taken = {recurrence_id_text(o.recurrence_id) for o in overrides if o.recurrence_id is not None}
            if master is not None and recurrence_id_text(master.start) not in taken:
                found.append((master, ()))
            found.extend((override, ()) for override in overrides)
        info = SeriesInfo(
            uid=uid,
            recurring=recurring,
            rrules=tuple(rule.to_ical().decode() for rule in master.rrules) if master else (),
            status=master.status if master else "",
            sequence=max(source.sequence for source in group),
            summary=(master or group[0]).summary,
            occurrences=len(found),
        )
        return found, info

    # ------------------------------------------------------------------------------------------- helpers

    def _aware(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            self.repairs.append("window:naive-taken-as-utc")
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def _group_by_uid(sources: list[SourceEvent]) -> dict[str, list[SourceEvent]]:
    groups: dict[str, list[SourceEvent]] = {}
    for source in sources:
        groups.setdefault(source.uid, []).append(source)
    return groups


def _latest(copies: list[SourceEvent]) -> SourceEvent | None:
    """Of several copies of one VEVENT, the highest SEQUENCE wins, the later one on a tie."""
    best = None
    for copy in copies:
        if best is None or copy.sequence >= best.sequence:
            best = copy
    return best


def _latest_per_slot(overrides: list[SourceEvent]) -> list[SourceEvent]:
    """One override per RECURRENCE-ID (compared as instants, so zones may differ), chosen by ``_latest``."""
    by_slot: dict[str, list[SourceEvent]] = {}
    for override in overrides:
        if override.recurrence_id is not None:
            by_slot.setdefault(recurrence_id_text(override.recurrence_id), []).append(override)
    return [latest for copies in by_slot.values() if (latest := _latest(copies)) is not None]


def _one_per_slot(expanded: list[ExpandedOccurrence]) -> list[ExpandedOccurrence]:
    """Drop instances that land on a slot already taken.

    A sub-daily rule in a zone generates wall times inside the spring DST gap (02:00, 02:30 in Paris); read with the
    offset before the gap they are the very instants of 03:00 and 03:30, which the rule generates too. RFC 5545
    §3.8.5.3 counts such duplicates once, and one slot must give one identity.
    """
    seen: set[str] = set()
    kept = []
    for occurrence in expanded:
        slot = recurrence_id_text(occurrence.recurrence_id)
        if slot not in seen:
            seen.add(slot)
            kept.append(occurrence)
    return kept


def _density_limit(max_occurrences: int) -> int:
    return max(200_000, 20 * max(max_occurrences, 0))


def _replace_status(source: SourceEvent, status: str) -> SourceEvent:
    return replace(source, status=status)


def _meeting(
    occurrence: ExpandedOccurrence | SourceEvent, series_repairs: tuple[str, ...], times: TimeContext, method: str
) -> ParsedMeeting:
    if isinstance(occurrence, ExpandedOccurrence):
        source, start, end, slot = occurrence.source, occurrence.start, occurrence.end, occurrence.recurrence_id
    else:
        source, start, end, slot = occurrence, occurrence.start, occurrence.end, occurrence.recurrence_id
    recurrence_id = recurrence_id_text(slot) if slot is not None else None
    start_utc = real_start(start, times.calendar_zone)
    if source.all_day:
        end_utc = real_start(end, times.calendar_zone)  # the next local midnight, 23 or 25 hours away on DST days
    else:
        end_utc = start_utc + source.length
    meeting = ParsedMeeting(
        uid=source.uid,
        recurrence_id=recurrence_id,
        summary=source.summary,
        start=start_utc,
        end=end_utc,
        all_day=source.all_day,
        tzid=source.tzid,
        location=source.location,
        description=source.description,
        status=source.status,
        organizer=source.organizer,
        attendees=source.attendees,
        sequence=source.sequence,
        method=method,
        repairs=tuple(dict.fromkeys([*source.repairs, *series_repairs])),
    )
    return _with_hash(meeting)


def _with_hash(meeting: ParsedMeeting) -> ParsedMeeting:
    return replace(meeting, content_hash=meeting_content_hash(meeting))


def meeting_content_hash(meeting: ParsedMeeting) -> str:
    """sha256 of what a person sees of the occurrence; SEQUENCE, METHOD and DTSTAMP do not count."""

    def person(attendee: Attendee | None) -> list[str] | None:
        return None if attendee is None else [attendee.address, attendee.name, attendee.role, attendee.partstat]

    payload = [
        meeting_identity(meeting.uid, meeting.recurrence_id),
        meeting.start.isoformat(),
        meeting.end.isoformat(),
        meeting.all_day,
        meeting.summary,
        meeting.location,
        meeting.description,
        meeting.status,
        person(meeting.organizer),
        sorted(person(attendee) for attendee in meeting.attendees),
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()
