"""The example rules exist in three places; they must say the same thing."""

from __future__ import annotations

import tomllib
from pathlib import Path

from agent.config import load_config
from agent.rules.examples import EXAMPLE_RULES, demo_rules_config
from tests.rules_engine.support import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


def test_config_example_the_shipped_copy_and_the_tested_copy_agree():
    tested = tomllib.loads(EXAMPLES.read_text(encoding="utf-8"))["rules"]
    assert tomllib.loads(EXAMPLE_RULES)["rules"] == tested
    assert load_config(ROOT / "config.example.toml").rules == tested


def test_the_demo_sends_its_mail_to_its_own_sinks_only():
    demo = tomllib.loads(demo_rules_config(2525, "http://127.0.0.1:9999/hook"))
    assert demo["smtp"]["host"] == "127.0.0.1" and demo["smtp"]["port"] == 2525
    actions = [a for rule in demo["rules"] for a in rule["do"]]
    assert all(a["dry_run"] is False for a in actions if a["type"] == "email")
    assert [a["url"] for a in actions if a["type"] == "webhook"] == ["http://127.0.0.1:9999/hook"]
    without_sink = tomllib.loads(demo_rules_config(None, "http://127.0.0.1:9999/hook"))
    assert "smtp" not in without_sink
    assert all(a["dry_run"] is True for rule in without_sink["rules"] for a in rule["do"] if a["type"] == "email")
