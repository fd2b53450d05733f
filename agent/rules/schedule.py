"""Rule delays and business-day arithmetic: "3 business days" → an exact due instant in the configured zone.

Delay semantics (what ``BusinessCalendar.add`` does, by unit)
-------------------------------------------------------------
``minutes`` / ``hours``
    Elapsed time: "48 hours" is exactly 48 × 3600 seconds later, whatever the wall clock does. Across the
    spring-forward weekend, Friday 10:00 CET + 48 hours is Sunday 11:00 CEST.
``days`` / ``weeks``
    Calendar days in the configured zone: the same local wall-clock time N days (7 N days) later. Friday 10:00
    + "2 days" is Sunday 10:00 local even when a DST change happens in between (47 or 49 elapsed hours).
``business days``
    A business day is a local date that is neither a weekend day of the country (Saturday/Sunday in France;
    the ``holidays`` package knows other weekends) nor one of its public holidays (with the subdivision's own,
    e.g. Good Friday and 26 December in Alsace-Moselle).

    - Start on a business day: move forward N business days and keep the local time of day.
      Thursday 2026-05-07 16:40 + 3 business days, Friday 8 May being a holiday → Wednesday 2026-05-13 16:40.
    - Start on a non-business day (a Saturday, a holiday): the clock starts on the next business day at
      ``day_start`` (09:00 by default), then moves N business days. A quote sent Saturday 23:10 + 3 business
      days → Thursday 09:00: a mail sent over the weekend is treated as arriving first thing Monday.
    - The time of day is kept as is, even outside office hours (Thursday 23:30 → Tuesday 23:30): the due
      time says when the rule becomes due; presenting it is the engine's business.

Local wall-clock times that do not exist (the spring-forward gap) move forward by the gap length (02:30 →
03:30); ambiguous ones (the fall-back hour) take the first occurrence. Every result is an aware UTC datetime;
naive inputs are programming errors and raise ``ValueError``.

Holidays are loaded per year, on first use, and cached in the calendar object.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from agent.errors import UserError


class DelayUnit(StrEnum):
    """The units a rule delay can be written in (see the module docstring for their exact meaning)."""

    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    BUSINESS_DAYS = "business days"


@dataclass(frozen=True, slots=True)
class Delay:
    """A rule delay such as "3 business days": a positive whole ``amount`` of one ``unit``."""

    amount: int
    unit: DelayUnit

    def __str__(self) -> str:
        unit = self.unit.value[:-1] if self.amount == 1 else self.unit.value
        return f"{self.amount} {unit}"

    @property
    def approximate_days(self) -> float:
        """Rough length in days, for sanity limits and sorting only (business days count as 7/5 of a day)."""
        per_unit = {
            DelayUnit.MINUTES: 1 / 1440,
            DelayUnit.HOURS: 1 / 24,
            DelayUnit.DAYS: 1,
            DelayUnit.WEEKS: 7,
            DelayUnit.BUSINESS_DAYS: 7 / 5,
        }
        return self.amount * per_unit[self.unit]


MAX_DELAY_DAYS = 3660  # ten years: anything longer is a typo, not a follow-up

# Normalized unit words (lower case, no accents, each word without a plural "s") → unit.
_UNIT_WORDS: dict[str, DelayUnit] = {
    **dict.fromkeys(["minute", "min", "mn"], DelayUnit.MINUTES),
    **dict.fromkeys(["hour", "hr", "h", "heure"], DelayUnit.HOURS),
    **dict.fromkeys(["day", "d", "jour", "j"], DelayUnit.DAYS),
    **dict.fromkeys(["week", "w", "wk", "semaine", "sem"], DelayUnit.WEEKS),
    **dict.fromkeys(
        ["business day", "working day", "workday", "work day", "jour ouvre", "j ouvre", "jo"],
        DelayUnit.BUSINESS_DAYS,
    ),
}
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "un": 1, "une": 1}
_DELAY_RE = re.compile(r"^\s*(?P<amount>[+-]?\d+(?:[.,]\d+)?|[a-z]+)\s*(?P<unit>[^\d]*?)\s*$")
_EXAMPLES = '"3 business days", "48 hours", "2 days", "1 week" or "30 minutes"'


def _quoted(value: object) -> str:
    """A value as TOML would write it: "text" in double quotes, numbers bare."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _normalize_words(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.split(r"[\s.\-_]+", plain.strip())
    singular = [w[:-1] if len(w) > 2 and w.endswith("s") and not w.endswith("ss") else w for w in words if w]
    return " ".join(singular)


def parse_delay(text: str) -> Delay:
    """Parse "3 business days", "48 hours", "3 jours ouvrés", "48h", "1 semaine"; raise UserError otherwise.

    English and French unit words are accepted, singular or plural, with or without accents. The message of
    the UserError names the text but no key path: callers prefix the path (``rules[2].after: …``).
    """
    if not isinstance(text, str):
        raise UserError(f"expected a delay such as {_EXAMPLES}, got {_quoted(text)}")
    day_plus = re.fullmatch(r"\s*[jd]\s*\+\s*(\d+)\s*", text.lower())
    if day_plus:
        count = day_plus[1]
        raise UserError(f'{_quoted(text)} is ambiguous: write "{count} days" (calendar days) or '
                        f'"{count} jours ouvrés" (business days)')
    found = _DELAY_RE.match(text.lower())
    if not found:
        raise UserError(f"{_quoted(text)} is not a delay (try {_EXAMPLES})")
    amount_text, unit_text = found["amount"], _normalize_words(found["unit"])
    unit = _UNIT_WORDS.get(unit_text)
    if unit_text in ("jour ouvrable", "j ouvrable"):
        raise UserError(
            f'{_quoted(text)}: "jours ouvrables" include Saturdays; write "{amount_text} jours ouvrés" '
            f'(or "{amount_text} business days") for Monday to Friday'
        )
    if unit_text in ("month", "moi", "mo", "year", "an", "annee", "y"):
        raise UserError(f'{_quoted(text)}: months and years are not supported (try "30 days" or "4 weeks")')
    if unit is None:
        hint = f'"{amount_text} business days"' if "ouv" in unit_text or "bus" in unit_text else _EXAMPLES
        raise UserError(f"{_quoted(text)} is not a delay (try {hint})")
    if amount_text in _WORD_NUMBERS:
        amount = _WORD_NUMBERS[amount_text]
    elif amount_text.isalpha():
        raise UserError(f"{_quoted(text)} is not a delay: write the number in digits (try {_EXAMPLES})")
    elif "." in amount_text or "," in amount_text:
        raise UserError(f"{_quoted(text)}: the amount must be a whole number (e.g. \"90 minutes\" for 1.5 hours)")
    else:
        amount = int(amount_text)
    if amount <= 0:
        raise UserError(f"{_quoted(text)}: a delay must be at least 1 (leave the delay out to act at once)")
    delay = Delay(amount, unit)
    if delay.approximate_days > MAX_DELAY_DAYS:
        raise UserError(f"{_quoted(text)} is longer than ten years")
    return delay


# Subdivision names people write that the holidays package does not know, → its code.
_SUBDIV_ALIASES = {"alsace-moselle": "6AE", "alsace moselle": "6AE"}


def _zone(timezone: str | ZoneInfo) -> ZoneInfo:
    if isinstance(timezone, ZoneInfo):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise UserError(f'unknown timezone {_quoted(timezone)} (use an IANA name such as "Europe/Paris")') from None


def resolve_zone(timezone: str | ZoneInfo) -> ZoneInfo:
    """The ZoneInfo for an IANA name; UserError naming the bad value otherwise."""
    return _zone(timezone)


def localize(wall_time: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive local time, moving a non-existent time forward by the gap (02:30 → 03:30).

    Ambiguous times (the repeated fall-back hour) take their first occurrence.
    """
    aware = wall_time.replace(tzinfo=zone, fold=0)
    # A round trip through UTC turns a time inside the spring-forward gap into the real instant after it.
    return aware.astimezone(UTC).astimezone(zone)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


class BusinessCalendar:
    """Weekends and public holidays of one country (and subdivision) in one timezone.

    ``country`` is an ISO 3166-1 code known to the ``holidays`` package ("FR"); ``subdiv`` one of its
    subdivisions ("6AE" or "Alsace-Moselle", "57", "974" …) or None. Bad values raise UserError at construction.
    """

    def __init__(
        self,
        country: str = "FR",
        subdiv: str | None = None,
        timezone: str | ZoneInfo = "Europe/Paris",
        *,
        day_start: time = time(9, 0),
    ) -> None:
        self.zone = _zone(timezone)
        self.country = str(country).upper()
        self.subdiv = _SUBDIV_ALIASES.get(str(subdiv).lower(), subdiv) if subdiv else None
        self.day_start = day_start
        try:
            probe = holidays.country_holidays(self.country, subdiv=self.subdiv, years=[])
        except NotImplementedError:
            if self.country not in holidays.list_supported_countries():
                raise UserError(f"unknown country {_quoted(country)} (use an ISO code such as \"FR\")") from None
            known = ", ".join(holidays.list_supported_countries()[self.country])
            raise UserError(f"country {self.country} has no subdivision {_quoted(subdiv)} (known: {known})") from None
        self.weekend: frozenset[int] = frozenset(probe.weekend)
        self._holidays_by_year: dict[int, dict[date, str]] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.country!r}, {self.subdiv!r}, {self.zone.key!r})"

    def _holidays(self, year: int) -> dict[date, str]:
        cached = self._holidays_by_year.get(year)
        if cached is None:
            loaded = holidays.country_holidays(self.country, subdiv=self.subdiv, years=year)
            cached = {day: name for day, name in loaded.items() if day.year == year}
            self._holidays_by_year[year] = cached
        return cached

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name on ``day`` ("Ascension Day"), or None."""
        return self._holidays(day.year).get(day)

    def is_business_day(self, day: date) -> bool:
        """True for a date that is neither a weekend day nor a public holiday."""
        if isinstance(day, datetime):
            day = self.local_date(day)
        return day.weekday() not in self.weekend and day not in self._holidays(day.year)

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, day: date, count: int) -> date:
        """``day`` moved forward ``count`` business days (``count`` ≥ 0; 0 returns ``day`` itself)."""
        for _ in range(count):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: date | datetime, end: date | datetime) -> int:
        """How many business days lie in (start, end]: the start day excluded, the end day included.

        Datetimes are read as local dates. Negative when ``end`` is before ``start``. So for a business-day
        start, ``business_days_between(start, add(start, Delay(n, BUSINESS_DAYS)))`` is n.
        """
        first, last = (self.local_date(v) if isinstance(v, datetime) else v for v in (start, end))
        sign = 1
        if last < first:
            first, last, sign = last, first, -1
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return sign * count

    def local_date(self, instant: datetime) -> date:
        """The date of an aware instant in this calendar's zone."""
        _require_aware(instant, "instant")
        return instant.astimezone(self.zone).date()

    def add(self, start: datetime, delay: Delay) -> datetime:
        """The instant ``delay`` after ``start`` (aware), as an aware UTC datetime; see the module docstring."""
        _require_aware(start, "start")
        if delay.unit is DelayUnit.MINUTES:
            return start.astimezone(UTC) + timedelta(minutes=delay.amount)
        if delay.unit is DelayUnit.HOURS:
            return start.astimezone(UTC) + timedelta(hours=delay.amount)
        local = start.astimezone(self.zone)
        wall_time = local.replace(tzinfo=None)
        if delay.unit in (DelayUnit.DAYS, DelayUnit.WEEKS):
            days = delay.amount * (7 if delay.unit is DelayUnit.WEEKS else 1)
            return localize(wall_time + timedelta(days=days), self.zone).astimezone(UTC)
        day, time_of_day = wall_time.date(), wall_time.time()
        if not self.is_business_day(day):
            day, time_of_day = self.next_business_day(day), self.day_start
        due_day = self.add_business_days(day, delay.amount)
        return localize(datetime.combine(due_day, time_of_day), self.zone).astimezone(UTC)

    def explain_add(self, start: datetime, delay: Delay) -> list[str]:
        """Human-readable steps of ``add`` for ``explain``: skipped weekend days and holidays, by name."""
        due = self.add(start, delay)
        lines = [f"start {start.astimezone(self.zone):%a %Y-%m-%d %H:%M %Z} + {delay}"]
        if delay.unit is DelayUnit.BUSINESS_DAYS:
            day = self.local_date(start)
            while day < self.local_date(due):
                day += timedelta(days=1)
                name = self.holiday_name(day)
                if name:
                    lines.append(f"skipped {day:%a %Y-%m-%d}: {name}")
                elif day.weekday() in self.weekend:
                    lines.append(f"skipped {day:%a %Y-%m-%d}: weekend")
        lines.append(f"due {due.astimezone(self.zone):%a %Y-%m-%d %H:%M %Z}")
        return lines
