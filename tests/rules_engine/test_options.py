"""Engine options: defaults, and the `[rules_engine]` settings table when the settings model offers one."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from agent.rules.engine import EngineOptions, lateness_verdict


def test_defaults_and_a_settings_table_with_only_some_keys():
    assert EngineOptions.from_settings(SimpleNamespace()) == EngineOptions()
    table = {"manager_address": "marc@atelier-durand.fr", "grace": timedelta(days=2), "unknown_key": 1, "lease": None}
    options = EngineOptions.from_settings(SimpleNamespace(rules_engine=table))
    assert (options.manager_address, options.grace, options.lease) == ("marc@atelier-durand.fr", timedelta(days=2),
                                                                       EngineOptions().lease)


def test_lateness_is_judged_against_the_grace_and_explained():
    from datetime import UTC, datetime

    due = datetime(2026, 5, 13, 14, 40, tzinfo=UTC)
    assert lateness_verdict(due, due + timedelta(days=7), timedelta(days=7)) is None
    verdict = lateness_verdict(due, due + timedelta(days=9), timedelta(days=7))
    assert verdict == ("due 2026-05-13 14:40 UTC, 9 days ago: more than the grace of 7 days, so it is marked missed "
                       "instead of firing late")
    assert "5 hours ago" in lateness_verdict(due, due + timedelta(hours=5), timedelta(hours=1))
