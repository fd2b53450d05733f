"""Rule actions: every `[[rules.do]]` problem with its key path, recipients, webhook payloads and signatures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agent.rules.actions import SIGNATURE_HEADER, sign_webhook
from agent.rules.spec import (
    DealAction,
    EmailAction,
    Recipient,
    TaskAction,
    WebhookAction,
    parse_rules,
    validate_rules,
)
from agent.rules.templates import build_context, sample_context


def rule_with(*actions: dict, on: str = "email.sent") -> dict:
    return {"name": "r", "on": on, "do": list(actions)}


def problems(*actions: dict, on: str = "email.sent") -> list[str]:
    return validate_rules([rule_with(*actions, on=on)], timezone="Europe/Paris", country="FR")


def parsed(*actions: dict, on: str = "email.sent") -> tuple:
    [rule] = parse_rules([rule_with(*actions, on=on)], timezone="Europe/Paris", country="FR")
    return rule.actions


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ({"title": "x"}, 'rules[0].do[0]: missing "type" (one of task, email, webhook, set_status, tag, deal)'),
        ({"type": "mail"}, 'rules[0].do[0].type: "mail" is not an action (one of task, email, webhook, set_status, '
                           'tag, deal) (did you mean "email"?)'),
        ({"type": "task"}, "rules[0].do[0].title: missing (expected a text template)"),
        ({"type": "task", "title": "x", "titre": "y"}, 'rules[0].do[0].titre: unknown key (did you mean "title"?)'),
        ({"type": "task", "title": "x", "due": "demain"}, 'rules[0].do[0].due: "demain" is not a delay (try '
                                                          '"3 business days", "48 hours", "2 days", "1 week" or '
                                                          '"30 minutes")'),
        ({"type": "task", "title": "x", "assignee": ["a@b.fr", "c@d.fr"]},
         "rules[0].do[0].assignee: a task has one assignee"),
        ({"type": "task", "title": "{{ contact.nom }}"}, 'rules[0].do[0].title: unknown variable "contact.nom" '
                                                        '(did you mean "contact.name"?) (known: contact.name, '
                                                        "contact.first_name, contact.last_name, contact.email, "
                                                        "contact.status, contact.phone, contact.title, contact.tags)"),
        ({"type": "email", "to": "contact", "subject": "s"}, "rules[0].do[0].body: missing (expected a text template)"),
        ({"type": "email", "subject": "s", "body": "b"},
         "rules[0].do[0].to: missing (expected a recipient or an array of recipients)"),
        ({"type": "email", "to": [], "subject": "s", "body": "b"}, "rules[0].do[0].to: is empty"),
        ({"type": "email", "to": "boss", "subject": "s", "body": "b"},
         'rules[0].do[0].to: "boss" is neither an email address nor one of sender, contact, manager'),
        ({"type": "email", "to": ["contact", 7], "subject": "s", "body": "b"},
         "rules[0].do[0].to[1]: expected a recipient (text), got 7"),
        ({"type": "email", "to": "contact", "cc": "x@", "subject": "s", "body": "b"},
         'rules[0].do[0].cc: "x@" is neither an email address nor one of sender, contact, manager'),
        ({"type": "email", "to": "contact", "subject": "s", "body": "b", "dry_run": "false"},
         'rules[0].do[0].dry_run: expected true or false, got text "false"'),
        ({"type": "webhook"}, "rules[0].do[0].url: missing (expected text)"),
        ({"type": "webhook", "url": "hooks.example.fr/x"},
         'rules[0].do[0].url: "hooks.example.fr/x" is not an http(s) URL'),
        ({"type": "webhook", "url": "https://h.fr/x", "payload": "{}"},
         'rules[0].do[0].payload: expected a table, got text "{}"'),
        ({"type": "webhook", "url": "https://h.fr/x", "payload": {"a": {"b": ["{{ x }}"]}}},
         'rules[0].do[0].payload.a.b[0]: unknown variable "x" (available: amount, company, contact, deal, due_date, '
         "interaction, manager, now, rule, sender)"),
        ({"type": "set_status"}, "rules[0].do[0].status: missing (expected text)"),
        ({"type": "set_status", "status": "customer"}, 'rules[0].do[0].status: "customer" is not one of lead, '
                                                       "prospect, client, former_client, partner, supplier, lost"),
        ({"type": "tag"}, "rules[0].do[0].tag: missing (expected a tag or an array of tags)"),
        ({"type": "tag", "tag": ["ok", ""]}, "rules[0].do[0].tag[1]: is empty"),
        ({"type": "deal"}, "rules[0].do[0]: a deal action needs at least one of stage, amount, name"),
        ({"type": "deal", "stage": "gagné"}, 'rules[0].do[0].stage: "gagné" is not one of lead, qualified, '
                                             "proposal, negotiation, won, lost"),
        ({"type": "deal", "amount": "beaucoup"}, 'rules[0].do[0].amount: "beaucoup" is not a number'),
    ],
)
def test_action_problems(action: dict, expected: str) -> None:
    assert problems(action) == [expected]


def test_trigger_dependent_action_problems() -> None:
    assert problems({"type": "task", "title": "x", "assignee": "sender"}, on="contact.created") == [
        'rules[0].do[0].assignee: "sender" has no meaning for on = "contact.created" (use "contact", "manager" or '
        "an address)"
    ]
    assert problems({"type": "deal", "amount": "auto"}, on="deal.changed") == [
        'rules[0].do[0].amount: "auto" reads the amount from a mail; on = "deal.changed" has none'
    ]
    assert problems({"type": "set_status", "status": "client"}, on="schedule") == [
        'rules[0].cron: missing (e.g. cron = "0 8 * * MON")',
        'rules[0].do[0].type: "set_status" acts on a contact; on = "schedule" has none',
    ]


def test_every_problem_of_every_action_is_reported() -> None:
    found = problems({"type": "task"}, {"type": "mail"}, {"type": "tag", "tag": 3})
    assert [line.split(":")[0] for line in found] == ["rules[0].do[0].title", "rules[0].do[1].type",
                                                      "rules[0].do[2].tag"]


def test_recipients_are_normalized() -> None:
    [mail] = parsed({"type": "email", "to": ["Direction <Direction@Example.FR>", "manager"], "subject": "s",
                     "body": "b"})
    assert isinstance(mail, EmailAction)
    assert mail.to == (Recipient("address", "direction@example.fr"), Recipient("manager"))
    assert str(mail.to[0]) == "direction@example.fr" and str(mail.to[1]) == "manager"
    assert mail.dry_run is True


def test_task_defaults_and_due() -> None:
    [task] = parsed({"type": "task", "title": "Relancer", "due": "2 jours ouvrés", "assignee": "a@b.fr"})
    assert isinstance(task, TaskAction)
    assert str(task.due) == "2 business days"
    assert task.assignee == Recipient("address", "a@b.fr")
    assert task.body is None


def test_deal_amount_number_or_auto() -> None:
    deal, auto = parsed({"type": "deal", "amount": 12450.5, "name": "{{ company.name }}"},
                        {"type": "deal", "amount": "auto", "stage": "proposal"})
    assert isinstance(deal, DealAction) and deal.amount == Decimal("12450.5") and deal.stage is None
    assert auto == DealAction(stage="proposal", amount="auto")


def test_webhook_signature_matches_rfc_4231_vector() -> None:
    # RFC 4231, test case 2.
    assert sign_webhook("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert SIGNATURE_HEADER == "X-CRM-Agent-Signature"


def test_webhook_payload_is_rendered_value_by_value_then_json_encoded() -> None:
    [hook] = parsed({"type": "webhook", "url": "https://hooks.example.fr/x", "secret": "env:HOOK_SECRET",
                     "payload": {"text": "Nouveau : {{ interaction.subject }}", "count": 2, "urgent": True,
                                 "who": {"name": "{{ contact.name }}", "tags": ["a", "{{ company.name }}"]}}})
    assert isinstance(hook, WebhookAction)
    hostile = build_context("email.sent", {"interaction": {"subject": 'Devis "urgent"}, "x": {{ 1 }}'},
                                           "contact": {"name": "Zoë"}, "company": {"name": "ACME"}})
    body = hook.render_body(hostile, default_payload={})
    assert json.loads(body) == {"text": 'Nouveau : Devis "urgent"}, "x": {{ 1 }}', "count": 2, "urgent": True,
                                "who": {"name": "Zoë", "tags": ["a", "ACME"]}}
    assert "env:HOOK_SECRET" in repr(hook) and hook.secret.source == "env:HOOK_SECRET"


def test_webhook_default_payload_and_literal_secret_hidden() -> None:
    [hook] = parsed({"type": "webhook", "url": "http://127.0.0.1:8080/hook", "secret": "s3cr3t"})
    assert hook.payload is None
    assert json.loads(hook.render_body(sample_context("email.sent"), {"event": "email.sent"})) == {
        "event": "email.sent"}
    assert "s3cr3t" not in repr(hook)
    assert hook.secret.reveal() == "s3cr3t"
