"""The activity chart: per-day counts in local time (across a DST change), and the SVG geometry drawn from them."""

from __future__ import annotations

import mailbox
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.clock import FakeClock
from agent.views.activity import activity_by_day
from agent.web.chart import activity_chart, nice_ceiling
from agent.web.content import ago, plain_error
from tests.support.env import maildir_spec, make_service
from tests.support.messages import make_message

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def store_with_mail_around_dst(tmp_path):
    """Mails at local 23:30 and 00:30 on both sides of the 2026-10-25 change from CEST (+2) to CET (+1)."""
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    local_times = [datetime(2026, 10, 24, 23, 30), datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 23, 30),
                   datetime(2026, 10, 26, 0, 30), datetime(2026, 10, 26, 0, 30)]
    for n, when in enumerate(local_times):
        box.add(make_message(n, date=when.replace(tzinfo=PARIS)))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")],
                           clock=FakeClock(datetime(2026, 10, 27, 12, tzinfo=UTC)))
    service.sync()
    yield service
    service.close()


def test_days_are_local_days_across_the_clock_change(store_with_mail_around_dst):
    service = store_with_mail_around_dst
    with service.store.read() as session:
        days = activity_by_day(session, PARIS, date(2026, 10, 27), 5)
    assert [(d["day"], d["emails"]) for d in days] == [
        ("2026-10-23", 0), ("2026-10-24", 1), ("2026-10-25", 2), ("2026-10-26", 2), ("2026-10-27", 0)]
    assert service.activity(days=3)["days"][0] == {"day": "2026-10-25", "emails": 2, "meetings": 0}


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (11, 20), (120, 200)])
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


def test_chart_bars_stack_meetings_on_emails_and_fit_the_plot():
    days = [{"day": (date(2026, 9, 28) + timedelta(days=i)).isoformat(), "emails": i % 4, "meetings": i % 2}
            for i in range(10)]
    chart = activity_chart(days)
    assert chart["top"] == 5 and len(chart["bars"]) == 10
    baseline = chart["baseline"]
    for bar, day in zip(chart["bars"], days, strict=True):
        assert bar["email_y"] + bar["email_height"] == pytest.approx(baseline)
        assert bar["meeting_y"] + bar["meeting_height"] == pytest.approx(bar["email_y"])
        assert bar["meeting_y"] >= 0 and bar["x"] + bar["width"] <= chart["width"]
        assert f"{day['emails']} email(s)" in bar["title"]
    tallest = max(chart["bars"], key=lambda b: b["email_height"] + b["meeting_height"])
    assert tallest["day"] == "2026-10-01"  # 3 emails + 1 meeting
    assert [label["text"] for label in chart["labels"]] == ["Sep 28", "Oct 1"]  # one label per month


def test_an_empty_chart_still_draws():
    chart = activity_chart([{"day": "2026-10-01", "emails": 0, "meetings": 0}])
    assert chart["top"] == 1 and chart["bars"][0]["email_height"] == 0
    assert activity_chart([])["bars"] == []


@pytest.mark.parametrize(("seconds", "text"), [(None, "never"), (5, "5 s ago"), (125, "2 min ago"),
                                               (7200, "2 h ago"), (90000, "1 d ago"), (-3, "0 s ago")])
def test_ago(seconds, text):
    assert ago(seconds) == text


@pytest.mark.parametrize(("target", "words"), [
    ({"status": "FAILED_AUTH", "error_kind": "auth", "error": "x"}, "refused the login"),
    ({"status": "FAILED", "error_kind": "empty", "error": "x"}, "Nothing was deleted"),
    ({"status": "FAILED", "error_kind": "temporary", "error": "x", "next_attempt": "2026-10-05T10:00:00+02:00"},
     "tries again at 2026-10-05 10:00"),
    ({"status": "ACTIVE", "error_kind": "", "error": "full resync: UIDVALIDITY changed"}, "listed again"),
    ({"status": "ACTIVE", "error_kind": "", "error": ""}, ""),
    ({"status": "FAILED", "error_kind": "other", "error": "disk full"}, "disk full"),
])
def test_plain_error(target, words):
    assert words in plain_error(target) if words else plain_error(target) == ""
