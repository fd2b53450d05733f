"""Delay parsing and business-day arithmetic against the French calendar (2026), DST weekends included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.errors import UserError
from agent.rules.schedule import BusinessCalendar, Delay, DelayUnit, localize, parse_delay

PARIS = ZoneInfo("Europe/Paris")
BD = DelayUnit.BUSINESS_DAYS


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture(scope="module")
def france() -> BusinessCalendar:
    return BusinessCalendar("FR", None, "Europe/Paris")


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("3 business days", 3, BD),
        ("1 business day", 1, BD),
        ("3 working days", 3, BD),
        ("5 workdays", 5, BD),
        ("3 jours ouvrés", 3, BD),
        ("3 jours ouvres", 3, BD),
        ("1 jour ouvré", 1, BD),
        ("  3   Business   Days ", 3, BD),
        ("48 hours", 48, DelayUnit.HOURS),
        ("48 heures", 48, DelayUnit.HOURS),
        ("48h", 48, DelayUnit.HOURS),
        ("1 hour", 1, DelayUnit.HOURS),
        ("2 days", 2, DelayUnit.DAYS),
        ("2 jours", 2, DelayUnit.DAYS),
        ("1 day", 1, DelayUnit.DAYS),
        ("1 week", 1, DelayUnit.WEEKS),
        ("une semaine", 1, DelayUnit.WEEKS),
        ("2 semaines", 2, DelayUnit.WEEKS),
        ("30 minutes", 30, DelayUnit.MINUTES),
        ("30 min", 30, DelayUnit.MINUTES),
        ("30min", 30, DelayUnit.MINUTES),
        ("an hour", 1, DelayUnit.HOURS),
    ],
)
def test_parse_delay_accepts_english_and_french(text: str, amount: int, unit: DelayUnit) -> None:
    assert parse_delay(text) == Delay(amount, unit)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("3 jours ouvrables", "include Saturdays"),
        ("trois jours", "digits"),
        ("1.5 hours", "90 minutes"),
        ("2,5 jours", "whole number"),
        ("2 months", "not supported"),
        ("1 an", "not supported"),
        ("0 days", "at least 1"),
        ("-3 days", "at least 1"),
        ("3 bananas", "is not a delay"),
        ("", "is not a delay"),
        ("3", "is not a delay"),
        ("99999 weeks", "ten years"),
        ("3 bussiness days", '"3 business days"'),
        ("J+3", 'write "3 days" (calendar days) or "3 jours ouvrés"'),
        ("3 semaines ouvrées", '"3 business days"'),
    ],
)
def test_parse_delay_rejects_with_a_hint(text: str, fragment: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_delay(text)
    assert fragment in raised.value.message
    assert f'"{text}"' in raised.value.message


def test_parse_delay_rejects_non_text() -> None:
    with pytest.raises(UserError):
        parse_delay(3)  # type: ignore[arg-type]


def test_delay_str_is_parseable_again() -> None:
    for delay in (Delay(1, BD), Delay(3, BD), Delay(48, DelayUnit.HOURS), Delay(1, DelayUnit.WEEKS)):
        assert parse_delay(str(delay)) == delay
    assert str(Delay(1, BD)) == "1 business day"


def test_french_holidays_2026(france: BusinessCalendar) -> None:
    for holiday in (date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 14), date(2026, 5, 25), date(2026, 7, 14),
                    date(2026, 11, 11), date(2026, 12, 25)):
        assert not france.is_business_day(holiday), holiday
        assert france.holiday_name(holiday)
    assert france.is_business_day(date(2026, 5, 7))
    assert not france.is_business_day(date(2026, 5, 9))  # Saturday
    assert france.holiday_name(date(2026, 5, 12)) is None
    # Alsace-Moselle keeps Good Friday and Saint Stephen's day; the rest of France does not.
    assert france.is_business_day(date(2026, 4, 3))
    assert france.is_business_day(date(2026, 12, 28))
    alsace = BusinessCalendar("FR", "Alsace-Moselle", "Europe/Paris")
    assert not alsace.is_business_day(date(2026, 4, 3))
    assert not alsace.is_business_day(date(2026, 12, 26))  # a Saturday anyway
    assert alsace.subdiv == "6AE"
    assert not BusinessCalendar("FR", "57").is_business_day(date(2026, 4, 3))


def test_quote_thursday_before_friday_holiday_is_due_wednesday(france: BusinessCalendar) -> None:
    due = france.add(paris(2026, 5, 7, 16, 40), Delay(3, BD))
    assert due.tzinfo is UTC
    assert due == paris(2026, 5, 13, 16, 40)


def test_ascension_week(france: BusinessCalendar) -> None:
    # Tuesday 12 May + 3: Wed 13 (1), Thu 14 Ascension skipped, Fri 15 (2), Mon 18 (3).
    assert france.add(paris(2026, 5, 12, 10, 0), Delay(3, BD)) == paris(2026, 5, 18, 10, 0)
    # Whit Monday 25 May is a holiday too: Friday 22 + 1 → Tuesday 26.
    assert france.add(paris(2026, 5, 22, 11, 5), Delay(1, BD)) == paris(2026, 5, 26, 11, 5)


def test_bastille_day_and_armistice(france: BusinessCalendar) -> None:
    # Monday 13 July + 1 → Wednesday 15 July (14 July is a Tuesday holiday).
    assert france.add(paris(2026, 7, 13, 9, 30), Delay(1, BD)) == paris(2026, 7, 15, 9, 30)
    # Tuesday 10 November + 2 → Thursday 12 (Wed 11 skipped) then Friday 13.
    assert france.add(paris(2026, 11, 10, 14, 0), Delay(2, BD)) == paris(2026, 11, 13, 14, 0)


def test_start_on_a_non_business_day_counts_from_next_business_morning(france: BusinessCalendar) -> None:
    # Saturday 23:10 → treated as Monday 09:00, + 3 → Thursday 09:00.
    assert france.add(paris(2026, 5, 16, 23, 10), Delay(3, BD)) == paris(2026, 5, 21, 9, 0)
    # On the Friday 8 May holiday itself → Monday 11 09:00 + 1 → Tuesday 12 09:00.
    assert france.add(paris(2026, 5, 8, 15, 0), Delay(1, BD)) == paris(2026, 5, 12, 9, 0)
    late = BusinessCalendar("FR", None, "Europe/Paris", day_start=time(8, 30))
    assert late.add(paris(2026, 5, 10, 12, 0), Delay(1, BD)) == paris(2026, 5, 12, 8, 30)


def test_time_of_day_kept_outside_office_hours(france: BusinessCalendar) -> None:
    assert france.add(paris(2026, 5, 7, 23, 30), Delay(3, BD)) == paris(2026, 5, 13, 23, 30)


def test_business_days_across_dst_weekends_keep_local_time(france: BusinessCalendar) -> None:
    spring = france.add(paris(2026, 3, 27, 16, 40), Delay(1, BD))
    assert spring.astimezone(PARIS) == paris(2026, 3, 30, 16, 40)
    assert spring - paris(2026, 3, 27, 16, 40) == timedelta(days=3, hours=-1)
    autumn = france.add(paris(2026, 10, 23, 16, 40), Delay(1, BD))
    assert autumn.astimezone(PARIS) == paris(2026, 10, 26, 16, 40)
    assert autumn - paris(2026, 10, 23, 16, 40) == timedelta(days=3, hours=1)


def test_hours_are_elapsed_time_and_days_are_calendar_days(france: BusinessCalendar) -> None:
    friday = paris(2026, 3, 27, 10, 0)
    assert france.add(friday, Delay(48, DelayUnit.HOURS)).astimezone(PARIS) == paris(2026, 3, 29, 11, 0)
    assert france.add(friday, Delay(2, DelayUnit.DAYS)).astimezone(PARIS) == paris(2026, 3, 29, 10, 0)
    assert france.add(friday, Delay(1, DelayUnit.WEEKS)).astimezone(PARIS) == paris(2026, 4, 3, 10, 0)
    assert france.add(friday, Delay(30, DelayUnit.MINUTES)) == paris(2026, 3, 27, 10, 30)
    # Calendar days do not skip weekends or holidays.
    assert france.add(paris(2026, 5, 7, 9, 0), Delay(2, DelayUnit.DAYS)) == paris(2026, 5, 9, 9, 0)


def test_calendar_day_landing_in_the_spring_gap_moves_forward(france: BusinessCalendar) -> None:
    due = france.add(paris(2026, 3, 28, 2, 30), Delay(1, DelayUnit.DAYS))
    assert due.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)


def test_localize_gap_and_ambiguous_time() -> None:
    assert localize(datetime(2026, 3, 29, 2, 30), PARIS).utcoffset() == timedelta(hours=2)
    assert localize(datetime(2026, 3, 29, 2, 30), PARIS).hour == 3
    first = localize(datetime(2026, 10, 25, 2, 30), PARIS)
    assert first.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_add_accepts_any_aware_zone_and_rejects_naive(france: BusinessCalendar) -> None:
    utc_start = datetime(2026, 5, 7, 14, 40, tzinfo=UTC)  # 16:40 in Paris
    assert france.add(utc_start, Delay(3, BD)) == paris(2026, 5, 13, 16, 40)
    with pytest.raises(ValueError):
        france.add(datetime(2026, 5, 7, 16, 40), Delay(3, BD))


def test_business_days_between(france: BusinessCalendar) -> None:
    assert france.business_days_between(date(2026, 5, 7), date(2026, 5, 13)) == 3
    assert france.business_days_between(date(2026, 5, 13), date(2026, 5, 7)) == -3
    assert france.business_days_between(date(2026, 5, 7), date(2026, 5, 7)) == 0
    assert france.business_days_between(date(2026, 5, 8), date(2026, 5, 10)) == 0
    assert france.business_days_between(paris(2026, 5, 7, 23, 0), paris(2026, 5, 11, 0, 30)) == 1
    assert france.business_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 252


@pytest.mark.parametrize("start_day", range(1, 32))
@pytest.mark.parametrize("count", [1, 3, 10])
def test_add_and_between_agree(france: BusinessCalendar, start_day: int, count: int) -> None:
    start = paris(2026, 5, start_day, 16, 40)
    due = france.add(start, Delay(count, BD))
    assert france.is_business_day(due)
    if france.is_business_day(start.date()):
        assert france.business_days_between(start, due) == count
        assert due.astimezone(PARIS).time() == time(16, 40)
    else:
        assert france.business_days_between(start, due) == count + 1
        assert due.astimezone(PARIS).time() == time(9, 0)


def test_weekend_comes_from_the_country() -> None:
    israel = BusinessCalendar("IL", None, "Asia/Jerusalem")
    assert israel.weekend == frozenset({4, 5})
    assert israel.is_business_day(date(2026, 6, 7))  # a Sunday
    assert not israel.is_business_day(date(2026, 6, 5))  # a Friday


def test_holidays_are_loaded_per_year_and_cached(france: BusinessCalendar) -> None:
    calendar = BusinessCalendar("FR")
    assert calendar._holidays_by_year == {}
    calendar.is_business_day(date(2027, 1, 4))
    assert set(calendar._holidays_by_year) == {2027}
    cached = calendar._holidays_by_year[2027]
    calendar.is_business_day(date(2027, 5, 6))
    assert calendar._holidays_by_year[2027] is cached
    # A delay crossing New Year loads the next year too.
    assert calendar.add(paris(2027, 12, 30, 10, 0), Delay(2, BD)) == paris(2028, 1, 3, 10, 0)
    assert {2027, 2028} <= set(calendar._holidays_by_year)


@pytest.mark.parametrize(
    ("country", "subdiv", "zone", "fragment"),
    [
        ("ZZ", None, "Europe/Paris", 'unknown country "ZZ"'),
        ("FR", "Bretagne", "Europe/Paris", 'no subdivision "Bretagne"'),
        ("FR", None, "Europe/Lutece", 'unknown timezone "Europe/Lutece"'),
    ],
)
def test_calendar_rejects_bad_settings(country: str, subdiv: str | None, zone: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        BusinessCalendar(country, subdiv, zone)


def test_explain_add_names_skipped_days(france: BusinessCalendar) -> None:
    lines = france.explain_add(paris(2026, 5, 7, 16, 40), Delay(3, BD))
    assert lines[0].startswith("start Thu 2026-05-07 16:40")
    assert "skipped Fri 2026-05-08: Victory Day" in lines
    assert "skipped Sat 2026-05-09: weekend" in lines
    assert lines[-1] == "due Wed 2026-05-13 16:40 CEST"
