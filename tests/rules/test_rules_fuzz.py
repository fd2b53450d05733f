"""Whatever TOML-shaped data a config holds, rule validation answers with problem lines, never a traceback."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.rules.spec import RuleProblems, parse_rules, validate_rules

KEYS = ["name", "on", "cron", "when", "after", "unless", "once_per", "do", "type", "title", "body", "to", "cc",
        "subject", "attachment", "any", "amount_gt", "status", "tags", "stage", "url", "payload", "secret", "tag",
        "amount", "due", "assignee", "dry_run", "enabled", "domain", "company", "contact", "zzz"]
WORDS = ["email.sent", "schedule", "contact.created", "deal.changed", "3 business days", "0 8 * * MON", "task",
         "email", "webhook", "deal", "tag", "set_status", "reply", "thread", "period", "contact", "manager",
         "sender", "(?i)devis", "(", "{{ contact.name }}", "{{ x", "auto", "won", "client", "https://h.fr/x", ""]

scalars = st.one_of(
    st.sampled_from(WORDS), st.text(max_size=12), st.integers(-5, 10**6), st.floats(allow_nan=True),
    st.booleans(), st.just(date(2026, 5, 7)), st.just(datetime(2026, 5, 7, 16, 40)),
)
toml_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(KEYS), children, max_size=6)),
    max_leaves=30,
)
rule_like = st.dictionaries(st.sampled_from(KEYS), toml_values, max_size=9)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.lists(st.one_of(rule_like, toml_values), max_size=4), toml_values))
def test_validation_never_raises(raw: object) -> None:
    problems = validate_rules(raw, timezone="Europe/Paris", country="FR")
    assert all(isinstance(line, str) and line.startswith(("rules", "timezone", "country")) for line in problems)
    try:
        rules = parse_rules(raw, timezone="Europe/Paris", country="FR")
    except RuleProblems as error:
        assert error.problems == problems and problems
    else:
        assert problems == [] and isinstance(rules, tuple)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]  # type: ignore[union-attr]


def _examples() -> list:
    import tomllib
    from pathlib import Path

    return tomllib.loads(Path(__file__).with_name("example_rules.toml").read_text(encoding="utf-8"))["rules"]


EXAMPLE_RULES = _examples()
EXAMPLE_PATHS = _paths(EXAMPLE_RULES)[1:]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(EXAMPLE_PATHS), toml_values)
def test_one_bad_value_in_a_valid_config_is_reported_not_raised(path: tuple, new: object) -> None:
    raw = _replace(EXAMPLE_RULES, path, new)
    problems = validate_rules(raw, timezone="Europe/Paris", country="FR")
    assert all(line.startswith("rules") for line in problems)
    if problems:
        # The problem names the rule that holds the bad value.
        assert any(line.startswith(f"rules[{path[0]}]") for line in problems), problems
