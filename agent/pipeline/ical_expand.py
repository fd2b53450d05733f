"""Expand one recurring series (master + overrides) into its occurrences inside a window, with recurring-ical-events.

What this adds around the library: the master's RRULEs are made safe first (``ical_rrule``: UNTIL normalized and
capped, hopeless or runaway rules refused), and each occurrence knows its source VEVENT and its recurrence id (the
original start of its slot), so a moved override keeps the identity of the slot it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import icalendar
from icalendar.prop import vDDDLists, vDDDTypes, vRecur
from recurring_ical_events import CalendarQuery, EventAdapter, Occurrence
from recurring_ical_events.selection.name import ComponentsWithName

from agent.pipeline.ical_event import Moment, SourceEvent
from agent.pipeline.ical_rrule import make_safe


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
    """The master's RRULEs made safe for dateutil (see ``ical_rrule``); refused rules are dropped with a repair."""
    repairs: list[str] = []
    rules: list[str] = []
    too_dense = False
    for rule in master.rrules:
        safe = make_safe(rule, master.start, master.uid, window.end, zone, density_limit)
        repairs.extend(safe.repairs)
        too_dense = too_dense or safe.too_dense
        if safe.text is not None:
            rules.append(safe.text)
    return PreparedRules(tuple(rules), tuple(dict.fromkeys(repairs)), too_dense)


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
