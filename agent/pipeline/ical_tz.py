"""Resolve the time zones an iCalendar file names (TZID, X-WR-TIMEZONE) to tzinfo objects, one resolver per parse.

Why not let ``icalendar`` do it: icalendar keeps a process-wide cache of the custom VTIMEZONE definitions it has
seen, keyed by TZID, so one file's ``TZID:My Zone`` would decide the offsets of the next file's ``My Zone``, and a
stream of hostile files with random TZIDs would grow that cache without bound. The parser therefore reads wall
times from icalendar and attaches zones from a ``ZoneResolver`` that lives for one parse only.

Lookup order for a TZID (first hit wins):

1. an IANA name (``Europe/Paris``), exactly, then ignoring case (``europe/paris``);
2. a Windows zone name as Outlook and Exchange write it (``Romance Standard Time`` → ``Europe/Paris``), using the
   CLDR table shipped with icalendar;
3. a vendor-prefixed "globally unique" TZID (``/mozilla.org/20050126_1/Europe/Paris``), by its IANA suffix;
4. ``UTC`` / ``GMT`` / ``Z`` spellings;
5. the VTIMEZONE of the same file with that TZID (Outlook's ``(UTC+01:00) Brussels, Copenhagen, Madrid, Paris``),
   built without touching icalendar's global cache.

An IANA zone wins over a VTIMEZONE of the same name: producers copy stale VTIMEZONE rules, the tz database is kept
current. Unknown names resolve to None; the caller substitutes the calendar's zone and records ``tzid:unknown:<x>``.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any

import icalendar
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "ETC/UTC", "ETC/GMT", "UNIVERSAL", "ZULU", "COORDINATED UNIVERSAL TIME"})
_MAX_TZID_LENGTH = 200


@lru_cache(maxsize=1)
def _iana_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@lru_cache(maxsize=1024)
def iana_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone called ``name`` (case-insensitive), or None. Never raises, whatever the string."""
    canonical = _iana_by_lower_name().get(name.strip().lower())
    if canonical is None:
        return None
    try:
        return zoneinfo.ZoneInfo(canonical)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        return None


def zone_name(zone: tzinfo) -> str:
    """A display name for a well-known zone: the IANA key or ``UTC``."""
    if zone is UTC:
        return "UTC"
    return str(getattr(zone, "key", None) or zone)


def well_known_zone(tzid: str) -> tzinfo | None:
    """Steps 1–4 of the lookup order: names that mean the same zone in every file."""
    name = tzid.strip().strip('"').strip()
    if not name or len(name) > _MAX_TZID_LENGTH:
        return None
    if name.upper() in _UTC_NAMES:
        return UTC
    zone = iana_zone(name)
    if zone is not None:
        return zone
    windows = WINDOWS_TO_OLSON.get(name)
    if windows is not None:
        return iana_zone(windows)
    if "/" in name:
        parts = [part for part in name.split("/") if part]
        for first in range(1, len(parts)):
            zone = iana_zone("/".join(parts[first:]))
            if zone is not None:
                return zone
    return None


class ZoneResolver:
    """Resolves TZIDs for one calendar file; ``definitions`` are that file's VTIMEZONE components by TZID."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self._definitions = definitions
        self._resolved: dict[str, tuple[tzinfo, str] | None] = {}

    def resolve(self, tzid: str) -> tuple[tzinfo, str] | None:
        """``(zone, display name)``: the IANA key for a known zone, the TZID itself for a file's own definition."""
        if tzid not in self._resolved:
            known = well_known_zone(tzid)
            if known is not None:
                self._resolved[tzid] = (known, zone_name(known))
            else:
                custom = self._from_definition(tzid)
                self._resolved[tzid] = None if custom is None else (custom, tzid.strip().strip('"'))
        return self._resolved[tzid]

    def _from_definition(self, tzid: str) -> tzinfo | None:
        component = self._definitions.get(tzid.strip().strip('"'))
        if component is None:
            return None
        try:
            zone = tzp.create_timezone(component)  # builds a fresh zone; icalendar's global cache is not touched
            for probe in (datetime(2026, 1, 15, tzinfo=zone), datetime(2026, 7, 15, tzinfo=zone)):
                if probe.utcoffset() is None:  # a definition that cannot answer is no definition
                    return None
        except Exception:  # noqa: BLE001 — any malformed VTIMEZONE makes the TZID unknown, never a crash
            return None
        return zone


def vtimezone_definitions(components: list[Any]) -> dict[str, Any]:
    """TZID → VTIMEZONE, the first definition of a TZID winning (some exports repeat them).

    ``components`` may be generic components holding a VTIMEZONE's properties and STANDARD/DAYLIGHT parts (the
    parser renames VTIMEZONE so icalendar does not cache it); they are rebuilt as ``icalendar.Timezone``.
    """
    definitions: dict[str, Any] = {}
    for component in components:
        tzid = component.get("TZID")
        if tzid is None or isinstance(tzid, list):
            continue
        timezone = icalendar.Timezone()
        timezone.update(component)
        for part in component.subcomponents:
            timezone.add_component(part)
        definitions.setdefault(str(tzid).strip().strip('"'), timezone)
    return definitions


def as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The start of ``day`` in ``zone``, as an aware datetime (all-day events start there)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)
