"""Rule templates: load-time checks with key paths, per-trigger variables, sandboxing and rendering."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from agent.errors import UserError
from agent.rules.amounts import Amount
from agent.rules.templates import (
    EVENT_VARIABLES,
    VARIABLES,
    TemplateProblems,
    build_context,
    compile_template,
    describe_variables,
    render,
    sample_context,
)

PATH = "rules[0].do[0].title"


def problems_of(source: str, event: str = "email.sent") -> list[str]:
    with pytest.raises(TemplateProblems) as raised:
        compile_template(source, PATH, event=event)
    assert raised.value.message == "\n".join(raised.value.problems)
    return raised.value.problems


def test_renders_a_follow_up_task_title() -> None:
    template = compile_template(
        "Relancer {{ contact.name }} ({{ company.name }}) — {{ interaction.subject }}", PATH, event="email.sent"
    )
    assert template.variables == {"contact", "company", "interaction"}
    text = render(template, sample_context("email.sent"))
    assert text == "Relancer Claire Martin (ACME SAS) — Devis n°42 — maintenance annuelle"


def test_filters_and_default_formats() -> None:
    context = sample_context("email.sent")
    cases = {
        "{{ due_date }}": "13/05/2026 16:40",
        "{{ due_date | date }}": "13/05/2026",
        '{{ interaction.date | date("long") }}': "jeudi 7 mai 2026",
        '{{ due_date | date("%Y-%m-%d") }}': "2026-05-13",
        "{{ amount }}": "12\u202f450,00 € HT",
        "{{ deal.amount | money }}": "12\u202f450,00 €",
        "{{ contact }} <{{ contact.email }}>": "Claire Martin <claire.martin@acme.fr>",
        '{{ contact["email"] }}': "claire.martin@acme.fr",
        "{{ interaction.attachments | join(', ') }}": "Devis_42.pdf",
    }
    for source, expected in cases.items():
        assert render(compile_template(source, PATH, event="email.sent"), context) == expected, source


def test_missing_objects_render_empty_and_can_be_tested() -> None:
    context = build_context("contact.created", {"contact": {"email": "x@acme.fr"}})
    template = compile_template(
        "{{ contact }}{% if company.name %} chez {{ company.name }}{% endif %}{{ due_date }}", PATH,
        event="contact.created",
    )
    assert render(template, context) == "x@acme.fr"


def test_unknown_attribute_has_a_did_you_mean() -> None:
    [problem] = problems_of("{{ contact.nmae }}")
    assert problem.startswith(f'{PATH}: unknown variable "contact.nmae" (did you mean "contact.name"?)')


def test_unknown_variable_has_a_did_you_mean() -> None:
    [problem] = problems_of("Bonjour {{ contat.name }}")
    assert problem.startswith(f'{PATH}: unknown variable "contat" (did you mean "contact"?)')


def test_variable_not_provided_by_the_trigger() -> None:
    [problem] = problems_of("{{ report.summary }}", event="email.sent")
    assert problem.startswith(f'{PATH}: "report" is not available for on = "email.sent"')
    [problem] = problems_of("{{ interaction.subject }}", event="schedule")
    assert '"interaction" is not available for on = "schedule"' in problem


def test_every_problem_is_listed() -> None:
    problems = problems_of("{{ contact.nmae }} {{ foo }} {{ report.summary }}")
    assert len(problems) == 3
    assert all(p.startswith(PATH + ": ") for p in problems)


def test_syntax_error_names_the_line() -> None:
    [problem] = problems_of("Bonjour\n{{ contact.name ")
    assert problem.startswith(f"{PATH}: template error on line 2:")


def test_unknown_filter_is_caught_at_load() -> None:
    [problem] = problems_of("{{ contact.name | shout }}")
    assert "No filter named 'shout'" in problem


def test_not_text() -> None:
    [problem] = problems_of(42)  # type: ignore[arg-type]
    assert problem == f"{PATH}: expected a text template, got int 42"


def test_local_names_are_not_context_variables() -> None:
    template = compile_template("{% for a in interaction.attachments %}[{{ a }}]{% endfor %}", PATH,
                                event="email.sent")
    assert render(template, sample_context("email.sent")) == "[Devis_42.pdf]"


def test_sandbox_blocks_internals_at_load_and_at_render() -> None:
    [problem] = problems_of("{{ now.__class__ }}")
    assert 'names starting with "_"' in problem
    sneaky = compile_template("{{ now | attr('__class__') }}", PATH, event="email.sent")
    with pytest.raises(UserError, match=re.escape(f"{PATH}: cannot render template")):
        render(sneaky, sample_context("email.sent"))


def test_render_errors_are_user_errors_with_key_path() -> None:
    template = compile_template("{{ amount + 1 }}", PATH, event="email.sent")
    with pytest.raises(UserError, match="^" + re.escape(f"{PATH}: cannot render")):
        render(template, build_context("email.sent", {}))


def test_single_line_folds_breaks() -> None:
    template = compile_template("Devis\n  {{ contact.name }}\n", PATH, event="email.sent")
    assert render(template, sample_context("email.sent"), single_line=True) == "Devis Claire Martin"


def test_rendered_values_are_not_evaluated() -> None:
    context = build_context("email.sent", {"interaction": {"subject": "{{ 7 * 7 }} <b>x</b>"}})
    assert render(compile_template("{{ interaction.subject }}", PATH), context) == "{{ 7 * 7 }} <b>x</b>"


def test_build_context_converts_times_and_rejects_unknown_names() -> None:
    context = build_context("schedule", {"now": datetime(2026, 3, 30, 6, 0, tzinfo=UTC)}, timezone="Europe/Paris")
    assert render(compile_template("{{ now }}", PATH), context) == "30/03/2026 08:00"
    with pytest.raises(ValueError):
        build_context("schedule", {"contact": {}})
    with pytest.raises(ValueError):
        build_context("email.sent", {"contact": {"nmae": "x"}})
    with pytest.raises(ValueError):
        build_context("email.opened", {})


def test_records_are_read_only() -> None:
    record = build_context("email.sent", {"contact": {"name": "A"}})["contact"]
    with pytest.raises(AttributeError):
        record.name = "B"  # type: ignore[attr-defined]


@pytest.mark.parametrize("event", sorted(EVENT_VARIABLES))
def test_every_documented_variable_renders_in_the_sample(event: str) -> None:
    context = sample_context(event)
    for dotted in describe_variables(event):
        text = render(compile_template("{{ " + dotted + " }}", PATH, event=event), context)
        assert text != "", dotted


def test_every_event_variable_is_documented() -> None:
    for names in EVENT_VARIABLES.values():
        assert names <= set(VARIABLES)


def test_amount_filter_accepts_amounts_and_numbers() -> None:
    context = build_context("deal.changed", {"amount": Amount(Decimal(1500), "EUR", "TTC"),
                                             "deal": {"amount": "12000"}})
    assert render(compile_template("{{ amount | money }}/{{ deal.amount | money }}", PATH), context) == (
        "1\u202f500,00 € TTC/12\u202f000,00 €"
    )
