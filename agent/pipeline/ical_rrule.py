"""Make an RRULE safe to hand to dateutil: UNTIL normalized, hopeless or runaway rules refused before expansion.

Why this exists: dateutil generates a rule's instances from DTSTART onwards and stops (at UNTIL, COUNT or the end
of the asked span) only when it meets an instance past it. A rule whose filters never match (``BYMONTH=2;BYMONTHDAY=30``, ``BYHOUR=9,10;BYSETPOS=3``)
therefore walks every day up to year 9999 — seconds of CPU per rule — and a dense rule started long ago
(``FREQ=MINUTELY`` since 1990) generates millions of instances before the window. Both are refused here, cheaply:

- ``rrule:invalid:<uid>``: dateutil cannot read it, BYSETPOS points past what one period can hold (or comes with a
  sub-daily FREQ, which no calendar writes and dateutil may never match), or the day
  filters match no day at all (checked with a YEARLY probe over the same filters, which needs at most one pass
  per year to the end of the calendar, ~0.2 s in the worst case, and is skipped for rules without day filters);
- ``rrule:too-dense:<uid>``: more than ``density_limit`` instances would be generated from DTSTART to the window
  end (an upper bound computed from FREQ, INTERVAL, the BY* lists and COUNT).

UNTIL: RFC 5545 wants UTC when DTSTART has a zone; producers write local time (``rrule:until-floating``: read in
DTSTART's zone), a bare date (``rrule:until-date``: the whole day counts) or, for all-day series, a date-time
(``rrule:until-datetime``: its date in the calendar zone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from dateutil.rrule import rrulestr
from icalendar.prop import vRecur

_FREQ_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 31 * 86400,
    "YEARLY": 366 * 86400,
}
_FREQ_RANK = {name: rank for rank, name in enumerate(_FREQ_SECONDS)}
_DAYS_PER_PERIOD = {"WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
_DAY_FILTERS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_SINGLE_VALUED = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST")
_ALL_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@dataclass(frozen=True, slots=True)
class SafeRule:
    text: str | None  # the rule for dateutil, or None when refused
    repairs: tuple[str, ...]
    too_dense: bool = False


def make_safe(
    rule: Any, start: date | datetime, uid: str, window_end: datetime, zone: tzinfo, density_limit: int
) -> SafeRule:
    """One RRULE (an icalendar vRecur) → a bounded rule string, or a refusal with its repair code."""
    repairs: list[str] = []
    fields = vRecur({key.upper(): list(value) for key, value in rule.items()})
    for name in _SINGLE_VALUED:
        if len(fields.get(name) or []) > 1:
            repairs.append(f"rrule:repeated:{name}")
            fields[name] = fields[name][:1]
    if fields.get("INTERVAL") and _as_int(fields["INTERVAL"][0], 0) < 1:
        repairs.append("rrule:bad-interval")  # INTERVAL=0 would never advance: dateutil would loop for ever
        fields.pop("INTERVAL")
    if fields.get("COUNT") and fields.get("UNTIL"):
        repairs.append("rrule:count-and-until")  # RFC 5545 forbids both; dateutil deprecates it: UNTIL is kept
        fields.pop("COUNT")
    until_values = fields.get("UNTIL") or []
    until = _normalized_until(until_values[0], start, zone, repairs) if until_values else None
    if fields.get("COUNT") and _as_int(fields["COUNT"][0], 0) < 1:
        repairs.append("rrule:bad-count")
        fields.pop("COUNT")
    freq = str((fields.get("FREQ") or [""])[0]).upper()
    if freq not in _FREQ_SECONDS or not _setpos_possible(fields, freq) or _never_matches(fields, freq, start):
        return SafeRule(None, (*repairs, f"rrule:invalid:{uid}"))
    if estimated_instances(fields, freq, start, until, window_end, zone) > density_limit:
        return SafeRule(None, (*repairs, f"rrule:too-dense:{uid}"), too_dense=True)
    if until is not None:
        fields["UNTIL"] = [until]
    text = fields.to_ical().decode()
    try:
        rrulestr(text, dtstart=_naive_if_date(start))
    except Exception:  # noqa: BLE001 — dateutil raises several types for a rule it cannot read
        return SafeRule(None, (*repairs, f"rrule:invalid:{uid}"))
    return SafeRule(text, tuple(repairs))


def estimated_instances(
    fields: vRecur, freq: str, start: date | datetime, until: date | datetime | None, window_end: datetime, zone: tzinfo
) -> float:
    """An upper bound of the instances dateutil generates from DTSTART up to the window end (or UNTIL)."""
    first = _instant(start, zone)
    last = window_end if until is None else min(window_end, _instant(until, zone))
    span = max((last - first).total_seconds(), 0.0)
    interval = max(_as_int((fields.get("INTERVAL") or [1])[0], 1), 1)
    periods = math.floor(span / (_FREQ_SECONDS[freq] * interval)) + 1
    estimate = periods * _instances_per_period(fields, freq)
    if fields.get("COUNT"):
        estimate = min(estimate, _as_int(fields["COUNT"][0], 0))
    return estimate


def _instances_per_period(fields: vRecur, freq: str) -> int:
    """Upper bound of the instances one period can hold (BY* lists expand a period, never beyond its days)."""
    days = 1
    if freq in _DAYS_PER_PERIOD and any(fields.get(name) for name in _DAY_FILTERS):
        days = _DAYS_PER_PERIOD[freq]
        # Each listed month day or year day comes at most once a week or month, and once per month in a year.
        per_value = {"WEEKLY": (1, 1, 1), "MONTHLY": (1, 1, 5), "YEARLY": (12, 1, 53)}[freq]
        for name, times_each in zip(("BYMONTHDAY", "BYYEARDAY", "BYDAY"), per_value, strict=True):
            if fields.get(name):
                days = min(days, len(fields[name]) * times_each)
    times = 1
    for name, unit_rank in (("BYHOUR", 2), ("BYMINUTE", 1), ("BYSECOND", 0)):
        if _FREQ_RANK[freq] > unit_rank:
            times *= max(len(fields.get(name) or []), 1)
    return days * times


def _setpos_possible(fields: vRecur, freq: str) -> bool:
    positions = [_as_int(value, 0) for value in fields.get("BYSETPOS") or []]
    if not positions:
        return True
    if _FREQ_RANK[freq] < _FREQ_RANK["DAILY"]:
        return False  # dateutil may never match a sub-daily BYSETPOS (and walk to 9999); no calendar writes one
    limit = _instances_per_period(fields, freq)
    return all(position != 0 and abs(position) <= limit for position in positions)


def _never_matches(fields: vRecur, freq: str, start: date | datetime) -> bool:
    """True when the rule's day filters match no day at all, so dateutil would walk to year 9999 for nothing."""
    probe: dict[str, list[Any]] = {name: list(fields[name]) for name in _DAY_FILTERS if fields.get(name)}
    if "WKST" in fields:
        probe["WKST"] = list(fields["WKST"])
    if not any(name in probe for name in ("BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")):
        # dateutil's own defaults: the day (and for YEARLY the month) of DTSTART
        if freq in ("MONTHLY", "YEARLY"):
            probe["BYMONTHDAY"] = [start.day]
        if freq == "YEARLY" and "BYMONTH" not in probe:
            probe["BYMONTH"] = [start.month]
    if not any(name in probe for name in ("BYWEEKNO", "BYYEARDAY", "BYMONTHDAY")):
        return False  # months and weekdays alone always meet
    # A YEARLY rule over the same days, weekdays without their ordinals: a superset of the days the rule can use.
    weekdays = sorted({str(day)[-2:].upper() for day in probe.get("BYDAY", [])} & set(_ALL_WEEKDAYS))
    probe["BYDAY"] = weekdays or _ALL_WEEKDAYS
    probe["FREQ"] = ["YEARLY"]
    try:
        rule = rrulestr(vRecur(probe).to_ical().decode(), dtstart=_naive_if_date(start).replace(tzinfo=None))
        return next(iter(rule), None) is None
    except Exception:  # noqa: BLE001 — a probe dateutil cannot read means the rule is unreadable too
        return True


def _normalized_until(value: Any, start: date | datetime, zone: tzinfo, repairs: list[str]) -> date | datetime:
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


def _instant(moment: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC)
    return datetime(moment.year, moment.month, moment.day, tzinfo=zone).astimezone(UTC)


def _naive_if_date(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment
    return datetime(moment.year, moment.month, moment.day)


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default
