"""Expand one recurring series (master + overrides) into its occurrences inside a window, with recurring-ical-events.

What this adds around the library, and why:

- **RRULE UNTIL is normalized** before expansion: RFC 5545 wants UTC when DTSTART has a zone, producers write local
  (``rrule:until-floating``: read in DTSTART's zone) or a bare date (``rrule:until-date``: the whole day counts);
  an all-day series with a date-time UNTIL uses its date in the calendar zone (``rrule:until-datetime``).
- **Expansion is bounded**: UNTIL is capped just past the window end (COUNT rules keep their COUNT and get the cap
  too), so a rule whose filters never match stops at the window instead of running to year 9999; and a rule whose
  estimated number of generated instances from DTSTART to the window end exceeds ``density_limit`` (a MINUTELY rule
  started in 1990) is not expanded at all (``rrule:too-dense:<uid>``), since generation always starts at DTSTART.
- **Each occurrence knows its source VEVENT and its recurrence id** (the original start), so a moved override keeps
  the identity of the slot it replaces.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import icalendar
from dateutil.rrule import rrulestr
from icalendar.prop import vDDDLists, vDDDTypes, vRecur
from recurring_ical_events import CalendarQuery, EventAdapter, Occurrence
from recurring_ical_events.selection.name import ComponentsWithName

from agent.pipeline.ical_event import Moment, SourceEvent

# The cap adds UNTIL next to COUNT; dateutil supports both (it stops at whichever comes first) but warns.
warnings.filterwarnings("ignore", message="Using both 'count' and 'until'", category=DeprecationWarning)

_FREQ_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 31 * 86400,
    "YEARLY": 366 * 86400,
}
_DAYS_PER_PERIOD = {"WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
_DAY_FILTERS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_FREQ_ORDER = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")


@dataclass(frozen=True, slots=True)
class Window:
    """``[start, end)`` in aware UTC: an occurrence belongs to it when its real start does."""

    start: datetime
    end: datetime

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class ExpandedOccurrence:
    source: SourceEvent  # the VEVENT whose data applies (the master, or the override that replaced this slot)
    start: Moment
    end: Moment
    recurrence_id: Moment  # the original start of the slot, as RECURRENCE-ID names it


@dataclass(frozen=True, slots=True)
class PreparedRules:
    rules: tuple[str, ...]  # RRULE strings ready for dateutil, UNTIL normalized and capped
    repairs: tuple[str, ...]
    too_dense: bool


def prepare_rules(master: SourceEvent, window: Window, zone: tzinfo, density_limit: int) -> PreparedRules:
    """Normalize, validate and bound the master's RRULEs; invalid rules are dropped with ``rrule:invalid:<uid>``."""
    repairs: list[str] = []
    rules: list[str] = []
    too_dense = False
    for rule in master.rrules:
        fields = vRecur({key.upper(): list(value) for key, value in rule.items()})
        until_values = fields.get("UNTIL") or []
        until = _normalized_until(until_values[0], master.start, zone, repairs) if until_values else None
        count_values = fields.get("COUNT") or []
        if count_values and _as_int(count_values[0], 0) < 1:
            repairs.append("rrule:bad-count")
            fields.pop("COUNT")
            count_values = []
        if _estimated_instances(fields, master.start, until, window, zone) > density_limit:
            too_dense = True
            repairs.append(f"rrule:too-dense:{master.uid}")
            continue
        cap = _until_cap(master.start, window, zone)
        fields["UNTIL"] = [cap if until is None or until > cap else until]
        text = fields.to_ical().decode()
        try:
            rrulestr(text, dtstart=_naive_if_date(master.start))
        except Exception:  # noqa: BLE001 — dateutil raises several types for a rule it cannot read
            repairs.append(f"rrule:invalid:{master.uid}")
            continue
        rules.append(text)
    return PreparedRules(tuple(rules), tuple(repairs), too_dense)


def expand_series(
    master: SourceEvent, rules: Sequence[str], overrides: Sequence[SourceEvent], window: Window, zone: tzinfo
) -> list[ExpandedOccurrence]:
    """Every occurrence of the series that starts inside ``window``; raises only on library errors (caller repairs)."""
    calendar = icalendar.Calendar()
    calendar.add_component(_clean_component(master, rules))
    for override in overrides:
        calendar.add_component(_clean_component(override, ()))
    query = CalendarQuery(
        calendar, components=[ComponentsWithName("VEVENT", adapter=_SourceAdapter, occurrence=_SourceOccurrence)]
    )
    if master.all_day:
        span = (_naive_local(window.start, zone) - timedelta(days=1), _naive_local(window.end, zone) + timedelta(days=1))
    else:
        span = (window.start, window.end)
    found: list[ExpandedOccurrence] = []
    for series in query.series:
        for occurrence in series.between(*span):
            source: SourceEvent = occurrence.source
            start = real_start(occurrence.start, zone)
            if window.holds(start):
                found.append(ExpandedOccurrence(source, occurrence.start, occurrence.end, _recurrence_id(occurrence)))
    return found


class _SourceAdapter(EventAdapter):
    """An event adapter that hands its VEVENT to the occurrences it makes (see ``_clean_component``)."""

    @property
    def source(self) -> SourceEvent:
        return self._component.crm_source


class _SourceOccurrence(Occurrence):
    def __init__(self, adapter: _SourceAdapter, start: Any = None, end: Any = None, sequence: int = -1) -> None:
        super().__init__(adapter, start, end, sequence)
        self.source = adapter.source


def _clean_component(source: SourceEvent, rules: Sequence[str]) -> icalendar.Event:
    """A minimal VEVENT holding only what expansion reads; the data of the occurrence stays on ``source``."""
    event = icalendar.Event()
    event["UID"] = source.uid
    event["DTSTART"] = vDDDTypes(source.start)
    event["DTEND"] = vDDDTypes(source.end)
    event["SEQUENCE"] = source.sequence
    if source.recurrence_id is not None:
        recurrence_id = vDDDTypes(source.recurrence_id)
        if source.this_and_future:
            recurrence_id.params["RANGE"] = "THISANDFUTURE"
        event["RECURRENCE-ID"] = recurrence_id
    if rules:
        event["RRULE"] = [vRecur.from_ical(rule) for rule in rules]
    if source.recurrence_id is None:
        if source.exdates:
            event["EXDATE"] = [vDDDLists([moment]) for moment in source.exdates]
        if source.rdates:
            event["RDATE"] = [vDDDLists([moment]) for moment in source.rdates]
    event.crm_source = source
    return event


def _recurrence_id(occurrence: _SourceOccurrence) -> Moment:
    source = occurrence.source
    if source.recurrence_id is None:
        return occurrence.start  # a slot of the master: its start is the original start
    if source.this_and_future and occurrence.start != source.start:
        # A later slot re-timed by a THISANDFUTURE override: undo the shift to find the slot.
        return occurrence.start - (source.start - source.recurrence_id)
    return source.recurrence_id


def real_start(moment: Moment, zone: tzinfo) -> datetime:
    """Aware UTC instant of a moment: an all-day date starts at midnight in the calendar zone."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=zone).astimezone(UTC)


def _naive_local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _naive_if_date(moment: Moment) -> datetime:
    if isinstance(moment, datetime):
        return moment
    return datetime(moment.year, moment.month, moment.day)


def _normalized_until(value: Any, start: Moment, zone: tzinfo, repairs: list[str]) -> Moment:
    if isinstance(start, datetime):
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                return value.astimezone(UTC)
            repairs.append("rrule:until-floating")
            return value.replace(tzinfo=start.tzinfo).astimezone(UTC)
        repairs.append("rrule:until-date")
        day_end = datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=start.tzinfo)
        return day_end.astimezone(UTC)
    if isinstance(value, datetime):
        repairs.append("rrule:until-datetime")
        return value.astimezone(zone).date() if value.tzinfo is not None else value.date()
    return value


def _until_cap(start: Moment, window: Window, zone: tzinfo) -> Moment:
    if isinstance(start, datetime):
        return window.end.astimezone(UTC) + timedelta(days=1)
    return window.end.astimezone(zone).date() + timedelta(days=2)


def _estimated_instances(fields: vRecur, start: Moment, until: Moment | None, window: Window, zone: tzinfo) -> float:
    """An upper bound of the instances dateutil generates from DTSTART up to the window end (or UNTIL)."""
    freq = str((fields.get("FREQ") or ["DAILY"])[0]).upper()
    if freq not in _FREQ_SECONDS:
        return 0  # dateutil will refuse the rule; it is reported as invalid
    first = real_start(start, zone)
    last = window.end if until is None else min(window.end, real_start(until, zone))
    span = max((last - first).total_seconds(), 0.0)
    interval = max(_as_int((fields.get("INTERVAL") or [1])[0], 1), 1)
    periods = math.floor(span / (_FREQ_SECONDS[freq] * interval)) + 1
    per_period = 1
    if freq in _DAYS_PER_PERIOD and any(fields.get(name) for name in _DAY_FILTERS):
        per_period *= _DAYS_PER_PERIOD[freq]
    rank = _FREQ_ORDER.index(freq)
    for name, unit_rank in (("BYHOUR", 2), ("BYMINUTE", 1), ("BYSECOND", 0)):
        if rank > unit_rank:
            per_period *= max(len(fields.get(name) or []), 1)
    estimate = periods * per_period
    count_values = fields.get("COUNT") or []
    if count_values:
        estimate = min(estimate, _as_int(count_values[0], 0))
    return estimate


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default

