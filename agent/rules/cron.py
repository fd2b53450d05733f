"""Cron schedules of `on = "schedule"` rules, read in the configured timezone and safe across DST changes.

An expression has the five classic fields (minute hour day-of-month month day-of-week, names such as MON or
JAN allowed) or is one of @hourly, @daily, @weekly, @monthly, @yearly/@annually. It is evaluated on **local
wall-clock time**: "0 8 * * MON" fires every Monday at 08:00 in Europe/Paris, 07:00 UTC in summer and 06:00
UTC in winter.

DST rules, decided once:

- A local time that does not exist on a spring-forward day (02:30 in Paris on the last Sunday of March) fires
  at the same distance after the gap (03:30 local): a daily job is never skipped.
- A local time that occurs twice on a fall-back day fires once, at its first occurrence.

``next_fire`` is strictly after ``after``, so an engine that stores the last fire time and asks for the next
one never fires an occurrence twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, CroniterError, croniter

from agent.errors import UserError
from agent.rules.schedule import localize, resolve_zone

CRON_ALIASES = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
_FIELDS = "minute hour day-of-month month day-of-week"
_PROBE_START = datetime(2000, 1, 1)


def cron_problem(expr: object) -> str | None:
    """Why ``expr`` is not a usable cron expression (one line, no key path), or None when it is fine."""
    if not isinstance(expr, str):
        return f'expected a cron expression such as "0 8 * * MON", got {expr!r}'
    text = expr.strip()
    shown = json.dumps(expr, ensure_ascii=False)
    if text.startswith("@"):
        if text.lower() not in CRON_ALIASES:
            return f"{shown} is not a cron expression (known shortcuts: {', '.join(CRON_ALIASES)})"
        return None
    fields = text.split()
    if len(fields) != 5:
        return f"{shown} is not a cron expression: expected 5 fields ({_FIELDS}), got {len(fields)}"
    try:
        croniter(text, _PROBE_START).get_next(datetime)
    except CroniterBadDateError:
        return f"{shown} never fires"
    except (CroniterError, ValueError, KeyError, TypeError) as error:
        return f"{shown} is not a cron expression: {error}"
    return None


def validate_cron(expr: str) -> str:
    """``expr`` stripped when valid; UserError with the reason otherwise."""
    problem = cron_problem(expr)
    if problem:
        raise UserError(problem)
    return expr.strip()


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"cron times must be timezone-aware, got naive {value.isoformat()}")


def fires_between(cron_expr: str, start: datetime, end: datetime, timezone: str | ZoneInfo) -> Iterator[datetime]:
    """Every fire time in (start, end], oldest first, as aware UTC datetimes."""
    _require_aware(start)
    _require_aware(end)
    zone = resolve_zone(timezone)
    expr = validate_cron(cron_expr)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    # croniter walks naive local wall-clock times; each is then placed on the real timeline.
    walker = croniter(expr, local_start)
    previous = start.astimezone(UTC)
    while True:
        candidate = localize(walker.get_next(datetime), zone).astimezone(UTC)
        if candidate <= previous:
            # The second pass through a fall-back hour (or a gap time already fired): fire once only.
            continue
        if candidate > end:
            return
        yield candidate
        previous = candidate


def next_fire(cron_expr: str, after: datetime, timezone: str | ZoneInfo) -> datetime:
    """The first fire time strictly after ``after`` (aware), as an aware UTC datetime."""
    _require_aware(after)
    zone = resolve_zone(timezone)
    expr = validate_cron(cron_expr)
    walker = croniter(expr, after.astimezone(zone).replace(tzinfo=None))
    floor = after.astimezone(UTC)
    while True:
        candidate = localize(walker.get_next(datetime), zone).astimezone(UTC)
        if candidate > floor:
            return candidate


def period_key(cron_expr: str, fire_time: datetime, timezone: str | ZoneInfo) -> str:
    """A stable name for the period a fire time opens ("2026-03-30T08:00+02:00"), for once-per-period keys."""
    _require_aware(fire_time)
    local = fire_time.astimezone(resolve_zone(timezone))
    return local.isoformat(timespec="minutes")
