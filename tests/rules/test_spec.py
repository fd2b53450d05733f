"""Rule specs: the five example rules parse as intended, and every validation problem names its exact key path."""

from __future__ import annotations

import copy
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.errors import UserError
from agent.rules.conditions import AmountBound, InteractionFacts, ParticipantFacts, matches
from agent.rules.schedule import BusinessCalendar, Delay, DelayUnit
from agent.rules.spec import (
    DealAction,
    EmailAction,
    Recipient,
    RuleProblems,
    SetStatusAction,
    TagAction,
    TaskAction,
    WebhookAction,
    parse_rules,
    validate_rules,
)
from agent.rules.templates import render, sample_context

EXAMPLES = Path(__file__).with_name("example_rules.toml")
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def examples() -> dict:
    config = tomllib.loads(EXAMPLES.read_text(encoding="utf-8"))
    rules = parse_rules(config["rules"], timezone=config["timezone"], country=config["country"])
    return {rule.name: rule for rule in rules}


def test_the_five_examples_parse_cleanly(examples: dict) -> None:
    config = tomllib.loads(EXAMPLES.read_text(encoding="utf-8"))
    assert validate_rules(config["rules"], timezone="Europe/Paris", country="FR") == []
    assert list(examples) == ["relance-devis", "bienvenue-prospect", "alerte-gros-deal", "rapport-hebdo",
                              "bon-de-commande-client"]
    assert [rule.index for rule in examples.values()] == [0, 1, 2, 3, 4]


def test_quote_follow_up(examples: dict) -> None:
    rule = examples["relance-devis"]
    assert rule.trigger.event == "email.sent"
    assert rule.delay == Delay(3, DelayUnit.BUSINESS_DAYS)
    assert [c.kind for c in rule.unless] == ["reply", "deal_closed"]
    assert rule.once_per == "thread"
    [task] = rule.actions
    assert isinstance(task, TaskAction)
    assert task.assignee == Recipient("sender")
    assert task.due == Delay(1, DelayUnit.BUSINESS_DAYS)
    assert render(task.title, sample_context("email.sent")) == (
        "Relancer Claire Martin — Devis n°42 — maintenance annuelle"
    )
    quote_by_attachment = InteractionFacts(direction="out", subject="Suite à notre échange",
                                           attachments=("Devis_42.pdf",))
    assert matches(rule.conditions, quote_by_attachment)
    assert not matches(rule.conditions, InteractionFacts(direction="out", subject="Compte rendu"))
    sent = datetime(2026, 5, 7, 16, 40, tzinfo=PARIS)
    assert rule.due_at(sent, BusinessCalendar("FR")) == datetime(2026, 5, 13, 16, 40, tzinfo=PARIS)
    assert rule.dedupe_key("thread-abc") == '["relance-devis", "thread", "thread-abc"]'


def test_welcome_mail_once_per_contact(examples: dict) -> None:
    rule = examples["bienvenue-prospect"]
    assert (rule.trigger.event, rule.once_per, rule.delay) == ("contact.created", "contact", None)
    [mail] = rule.actions
    assert isinstance(mail, EmailAction)
    assert mail.to == (Recipient("contact"),) and mail.cc == (Recipient("manager"),)
    assert mail.dry_run is True
    assert rule.conditions.status == ("prospect",)
    assert rule.due_at(datetime(2026, 5, 7, 16, 40, tzinfo=PARIS), BusinessCalendar()) == datetime(
        2026, 5, 7, 14, 40, tzinfo=UTC)


def test_manager_alert_on_big_deal(examples: dict) -> None:
    rule = examples["alerte-gros-deal"]
    assert rule.trigger.event == "deal.changed" and rule.once_per == "deal"
    assert rule.conditions.amount == (AmountBound(">", Decimal(10000)),)
    mail, hook = rule.actions
    assert isinstance(mail, EmailAction) and mail.dry_run is False and mail.to == (Recipient("manager"),)
    assert isinstance(hook, WebhookAction)
    assert hook.url == "https://hooks.example.fr/crm/gros-deal"
    assert hook.secret is not None and hook.secret.source == "env:CRM_WEBHOOK_SECRET"


def test_weekly_report(examples: dict) -> None:
    rule = examples["rapport-hebdo"]
    assert rule.trigger.cron == "0 8 * * MON" and rule.once_per == "period"
    fire = rule.trigger.next_fire(datetime(2026, 3, 28, tzinfo=UTC))
    assert fire.astimezone(PARIS) == datetime(2026, 3, 30, 8, 0, tzinfo=PARIS)
    [mail] = rule.actions
    assert mail.to == (Recipient("manager"), Recipient("address", "direction@example.fr"))
    body = render(mail.body, sample_context("schedule"))
    assert "Mails envoyés : 42 — reçus : 57" in body


def test_purchase_order_makes_a_client(examples: dict) -> None:
    rule = examples["bon-de-commande-client"]
    assert rule.trigger.event == "email.received" and rule.once_per == "thread"
    status, deal, tag = rule.actions
    assert status == SetStatusAction("client")
    assert deal == DealAction(stage="won", amount="auto")
    assert tag == TagAction(("commande-recue",))
    order = InteractionFacts(direction="in", subject="Commande", attachments=("Bon_de_commande_ACME.pdf",),
                             participants=(ParticipantFacts("achats@acme.fr"),))
    assert matches(rule.conditions, order)
    assert matches(rule.conditions, InteractionFacts(direction="in", snippet="Voici nos bons de commande"))
    assert not matches(rule.conditions, InteractionFacts(direction="in", subject="Commande", is_auto_reply=True))


def test_specs_are_frozen_and_hashable(examples: dict) -> None:
    rule = examples["relance-devis"]
    with pytest.raises(AttributeError):
        rule.name = "x"  # type: ignore[misc]
    assert len({hash(r) for r in examples.values()}) == 5


def test_defaults() -> None:
    [rule] = parse_rules([{"name": "r", "on": "meeting.ended", "do": [{"type": "task", "title": "CR"}]}],
                         timezone="Europe/Paris", country="FR")
    assert rule.enabled and rule.once_per == "event" and rule.delay is None and rule.unless == ()
    assert rule.actions[0].assignee == Recipient("sender")
    [rule] = parse_rules([{"name": "r", "on": "contact.created", "do": [{"type": "task", "title": "Appeler"}]}],
                         timezone="Europe/Paris", country="FR")
    assert rule.actions[0].assignee == Recipient("manager")
    with pytest.raises(ValueError):
        rule.dedupe_key("")
    with pytest.raises(ValueError):
        rule.trigger.next_fire(datetime(2026, 1, 1, tzinfo=UTC))


def test_parse_rules_raises_every_problem_at_once() -> None:
    raw = [{"name": "a", "on": "email.sent", "after": "trois jours", "do": []}, {"name": "a", "on": "x", "do": []}]
    with pytest.raises(RuleProblems) as raised:
        parse_rules(raw, timezone="Europe/Paris", country="FR")
    assert isinstance(raised.value, UserError)
    assert raised.value.problems == validate_rules(raw)
    assert raised.value.message.splitlines() == raised.value.problems
    assert len(raised.value.problems) == 5


def test_no_rules_is_fine() -> None:
    assert parse_rules([], timezone="Europe/Paris", country="FR") == ()
    assert validate_rules(None) == []


BASE = {
    "name": "relance",
    "on": "email.sent",
    "after": "3 business days",
    "unless": ["reply"],
    "when": {"subject": "(?i)devis"},
    "do": [{"type": "task", "title": "Relancer {{ contact.name }}"}],
}


def problems_with(change: dict, remove: tuple[str, ...] = (), *, before: list | None = None) -> list[str]:
    rule = copy.deepcopy(BASE)
    for key in remove:
        del rule[key]
    rule.update(change)
    return validate_rules([*(before or []), rule], timezone="Europe/Paris", country="FR")


def test_base_rule_is_valid() -> None:
    assert problems_with({}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": ""}, "rules[0].name: is empty"),
        ({"name": 3}, "rules[0].name: expected text, got integer 3"),
        ({"name": "x" * 81}, "rules[0].name: must be one line of at most 80 characters"),
        ({"on": "email.send"}, 'rules[0].on: "email.send" is not one of email.sent, email.received, meeting.ended, '
                               'contact.created, deal.changed, schedule (did you mean "email.sent"?)'),
        ({"cron": "0 8 * * MON"}, 'rules[0].cron: only for on = "schedule" (this rule has on = "email.sent")'),
        ({"after": "3 jours ouvrables"}, 'rules[0].after: "3 jours ouvrables": "jours ouvrables" include Saturdays; '
                                         'write "3 jours ouvrés" (or "3 business days") for Monday to Friday'),
        ({"after": "trois jours"}, 'rules[0].after: "trois jours" is not a delay: write the number in digits (try '
                                   '"3 business days", "48 hours", "2 days", "1 week" or "30 minutes")'),
        ({"after": 3}, "rules[0].after: expected a delay such as \"3 business days\", \"48 hours\", \"2 days\", "
                       "\"1 week\" or \"30 minutes\", got 3"),
        ({"unless": ["replied"]}, 'rules[0].unless[0]: "replied" is not one of reply, inbound_from_contact, '
                                  'meeting_booked, deal_closed (did you mean "reply"?)'),
        ({"unless": "reply", "after": None}, None),
        ({"once_per": "period"}, 'rules[0].once_per: "period" does not apply to on = "email.sent" '
                                 "(use thread or contact or event)"),
        ({"once_per": "ever"}, 'rules[0].once_per: "ever" is not one of thread, contact, deal, event, period '
                               '(did you mean "event"?)'),
        ({"enabled": "yes"}, 'rules[0].enabled: expected true or false, got text "yes"'),
        ({"description": ["a"]}, 'rules[0].description: expected text, got array ["a"]'),
        ({"delay": "3 days"}, 'rules[0].delay: unknown key (did you mean "after"?)'),
        ({"actions": []}, 'rules[0].actions: unknown key (did you mean "do"?)'),
        ({"nmae": "x"}, 'rules[0].nmae: unknown key (did you mean "name"?)'),
        ({"do": []}, "rules[0].do: is empty (give at least one action)"),
        ({"do": {"type": "task"}}, 'rules[0].do: expected an array of tables, got table {"type": "task"}'),
        ({"do": ["task"]}, "rules[0].do[0]: expected a table, got text"),
        ({"when": "devis"}, "rules[0].when: expected a table, got text"),
    ],
)
def test_rule_level_problems(change: dict, expected: str | None) -> None:
    if change.get("after", "") is None:
        change = {k: v for k, v in change.items() if k != "after"}
        assert problems_with(change, remove=("after",)) == [
            'rules[0].unless: has no effect without "after" (the rule acts at once)'
        ]
        return
    assert problems_with(change) == [expected]


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("name", "rules[0].name: missing (expected text)"),
        ("on", "rules[0].on: missing (expected text)"),
        ("do", "rules[0].do: missing (expected an array of tables)"),
    ],
)
def test_required_keys(missing: str, expected: str) -> None:
    assert expected in problems_with({}, remove=(missing,))


def test_duplicate_names_are_case_insensitive() -> None:
    assert problems_with({"name": "Relance"}, before=[copy.deepcopy(BASE)]) == [
        'rules[1].name: "Relance" is already the name of rules[0]'
    ]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"subject": "(?i)devis("}, "rules[0].when.subject: invalid regex: missing ), unterminated subpattern at "
                                    "position 9"),
        ({"subject": "devis|"}, "rules[0].when.subject: regex devis| matches any text (look for a stray | or a "
                                "missing group)"),
        ({"subject": ""}, "rules[0].when.subject: is empty"),
        ({"attachement": "x"}, 'rules[0].when.attachement: unknown key (did you mean "attachment"?)'),
        ({"stage": "won"}, 'rules[0].when.stage: not available for on = "email.sent"'),
        ({"amount_gt": "dix mille"}, 'rules[0].when.amount_gt: "dix mille" is not a number'),
        ({"amount_gt": -5}, "rules[0].when.amount_gt: -5 is not a positive number"),
        ({"amount_gt": True}, "rules[0].when.amount_gt: expected a number, got boolean true"),
        ({"status": ["prospect", "prospct"]}, 'rules[0].when.status[1]: "prospct" is not one of lead, prospect, '
                                              'client, former_client, partner, supplier, lost (did you mean '
                                              '"prospect"?)'),
        ({"tags": ["vip", 3]}, "rules[0].when.tags[1]: expected text, got integer"),
        ({"any": []}, "rules[0].when.any: is empty (give at least one table of conditions)"),
        ({"any": [{"subjet": "x"}]}, 'rules[0].when.any[0].subjet: unknown key (did you mean "subject"?)'),
        ({"any": [{"subject": "("}]}, "rules[0].when.any[0].subject: invalid regex: missing ), unterminated "
                                      "subpattern at position 0"),
        ({"any": ["x"]}, "rules[0].when.any[0]: expected a table, got text"),
    ],
)
def test_when_problems(when: dict, expected: str) -> None:
    assert problems_with({"when": when}) == [expected]


def test_when_amount_accepts_french_numbers() -> None:
    [rule] = parse_rules([{**BASE, "when": {"amount_gte": "10 000,50"}}], timezone="Europe/Paris", country="FR")
    assert rule.conditions.amount == (AmountBound(">=", Decimal("10000.50")),)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"on": "contact.created", "unless": [], "when": {"attachment": "x"}},
         'rules[0].when.attachment: not available for on = "contact.created"'),
        ({"on": "contact.created", "after": "2 days", "unless": ["reply"]},
         'rules[0].unless: "reply" cannot happen for on = "contact.created"'),
        ({"on": "schedule", "cron": "0 8 * * MON", "when": {"subject": "x"}},
         "rules[0].when: schedule rules have no conditions (they fire on their cron)"),
        ({"on": "schedule", "cron": "0 8 * * MON", "after": "1 day"},
         "rules[0].after: schedule rules fire on their cron; leave the delay out"),
        ({"on": "schedule"}, 'rules[0].cron: missing (e.g. cron = "0 8 * * MON")'),
        ({"on": "schedule", "cron": "0 8 * *"}, 'rules[0].cron: "0 8 * *" is not a cron expression: expected 5 '
                                                "fields (minute hour day-of-month month day-of-week), got 4"),
        ({"on": "schedule", "cron": "0 0 30 2 *"}, 'rules[0].cron: "0 0 30 2 *" never fires'),
    ],
)
def test_trigger_dependent_problems(rule: dict, expected: str) -> None:
    change = {"after": None, "unless": None, "when": None, **rule}
    if rule["on"] == "schedule":
        change["do"] = [{"type": "task", "title": "Rapport {{ period.label }}"}]
    raw = {**copy.deepcopy(BASE), **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    assert validate_rules([raw], timezone="Europe/Paris", country="FR") == [expected]


def test_schedule_rule_reports_everything_even_with_a_bad_cron() -> None:
    raw = {"name": "s", "on": "schedule", "cron": "nope", "do": [
        {"type": "tag", "tag": "x"},
        {"type": "email", "to": ["contact", "sender"], "subject": "{{ interaction.subject }}", "body": "ok"}]}
    problems = validate_rules([raw])
    assert problems == [
        'rules[0].cron: "nope" is not a cron expression: expected 5 fields (minute hour day-of-month month '
        "day-of-week), got 1",
        'rules[0].do[0].type: "tag" acts on a contact; on = "schedule" has none',
        'rules[0].do[1].to[0]: "contact" has no meaning for on = "schedule" (use "manager" or an address)',
        'rules[0].do[1].to[1]: "sender" has no meaning for on = "schedule" (use "manager" or an address)',
        'rules[0].do[1].subject: "interaction" is not available for on = "schedule" (available: due_date, '
        "manager, now, period, report, rule)",
    ]


def test_top_level_shape_and_settings() -> None:
    assert validate_rules({"name": "x"}) == ["rules: expected an array of tables ([[rules]]), got table"]
    assert validate_rules(["x"]) == ["rules[0]: expected a table ([[rules]]), got text"]
    assert validate_rules([], timezone="Europe/Lutece", country="FR") == [
        'timezone: unknown timezone "Europe/Lutece" (use an IANA name such as "Europe/Paris")'
    ]
    assert validate_rules([], country="XX") == ['country: unknown country "XX" (use an ISO code such as "FR")']
    assert validate_rules([], country="FR", subdiv="Alsace-Moselle") == []
    assert validate_rules([], country="FR", subdiv="Bretagne")[0].startswith(
        'country: country FR has no subdivision "Bretagne"')


def test_custom_statuses_and_stages() -> None:
    raw = [{**BASE, "do": [{"type": "set_status", "status": "ambassadeur"}, {"type": "deal", "stage": "signé"}]}]
    assert len(validate_rules(raw)) == 2
    assert validate_rules(raw, statuses=["ambassadeur"], stages=["signé"]) == []
