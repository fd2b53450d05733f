"""Cron schedules evaluated on Paris wall-clock time, across both DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.errors import UserError
from agent.rules.cron import cron_problem, fires_between, next_fire, period_key, validate_cron

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_monday_eight_oclock_stays_local_across_spring_and_autumn() -> None:
    fire = datetime(2026, 3, 16, tzinfo=UTC)
    local_times, utc_hours = [], []
    for _ in range(33):  # Monday 16 March … Monday 26 October
        fire = next_fire("0 8 * * MON", fire, "Europe/Paris")
        assert fire.tzinfo is UTC
        local = fire.astimezone(PARIS)
        local_times.append((local.weekday(), local.hour, local.minute))
        utc_hours.append(fire.hour)
    assert set(local_times) == {(0, 8, 0)}
    assert utc_hours[1] == 7  # 23 March: winter time
    assert utc_hours[2] == 6  # 30 March: summer time
    assert utc_hours[-1] == 7  # back to winter time in November
    assert fire.astimezone(PARIS).date() == datetime(2026, 10, 26).date()


def test_next_fire_is_strictly_after() -> None:
    monday_eight = paris(2026, 3, 30, 8, 0)
    assert next_fire("0 8 * * MON", monday_eight, "Europe/Paris") == paris(2026, 4, 6, 8, 0)
    assert next_fire("0 8 * * MON", monday_eight - timedelta(seconds=1), PARIS) == monday_eight


def test_time_in_spring_gap_fires_after_the_gap_once() -> None:
    fires = list(fires_between("30 2 * * *", paris(2026, 3, 28), paris(2026, 3, 31), "Europe/Paris"))
    local = [f.astimezone(PARIS).replace(tzinfo=None) for f in fires]
    assert local == [datetime(2026, 3, 28, 2, 30), datetime(2026, 3, 29, 3, 30), datetime(2026, 3, 30, 2, 30)]


def test_repeated_autumn_hour_fires_once() -> None:
    fires = list(fires_between("30 2 * * *", paris(2026, 10, 24), paris(2026, 10, 27), "Europe/Paris"))
    assert len(fires) == 3
    assert fires[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30, in CEST
    # Asking from inside the second pass of the repeated hour goes to the next day.
    second_pass = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # 02:10 CET
    assert next_fire("30 2 * * *", second_pass, PARIS) == paris(2026, 10, 26, 2, 30)


def test_fires_between_is_ordered_and_bounded() -> None:
    fires = list(fires_between("*/30 * * * *", paris(2026, 10, 25, 1, 0), paris(2026, 10, 25, 4, 0), PARIS))
    assert fires == sorted(set(fires))
    assert fires[0] == paris(2026, 10, 25, 1, 30)
    assert fires[-1] == paris(2026, 10, 25, 4, 0)
    assert list(fires_between("0 8 * * MON", paris(2026, 3, 30, 8, 0), paris(2026, 4, 5), PARIS)) == []


@pytest.mark.parametrize(
    "expr", ["0 8 * * MON", "0 8 * * 1", "*/15 9-18 * * mon-fri", "@weekly", "@DAILY", " 0 8 1 * * "]
)
def test_valid_expressions(expr: str) -> None:
    assert cron_problem(expr) is None
    assert validate_cron(expr) == expr.strip()


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("0 8 * *", "expected 5 fields"),
        ("0 0 8 * * MON", "got 6"),
        ("0 25 * * *", "is not a cron expression"),
        ("0 8 * * FUNDAY", "is not a cron expression"),
        ("0 0 31 2 *", "never fires"),
        ("@fortnightly", "known shortcuts"),
        ("", "expected 5 fields"),
        (8, "expected a cron expression"),
    ],
)
def test_invalid_expressions(expr: object, fragment: str) -> None:
    problem = cron_problem(expr)
    assert problem is not None and fragment in problem
    with pytest.raises(UserError, match=fragment):
        validate_cron(expr)  # type: ignore[arg-type]


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError):
        next_fire("0 8 * * MON", datetime(2026, 3, 30), PARIS)


def test_unknown_zone_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown timezone"):
        next_fire("0 8 * * MON", paris(2026, 3, 30), "Paris")


def test_period_key_is_local_and_stable() -> None:
    fire = next_fire("0 8 * * MON", paris(2026, 3, 28), PARIS)
    assert period_key("0 8 * * MON", fire, PARIS) == "2026-03-30T08:00+02:00"
