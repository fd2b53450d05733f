"""The five example rules of the config, end to end: tasks, statuses, deals, and mail through a real SMTP sink."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from agent.rules.actions import sign_webhook
from tests.rules_engine.support import OWN, WebhookReceiver, example_rules

CLAIRE = f"claire.martin@{OWN}"
MANAGER = f"marc.durand@{OWN}"
SOPHIE = "sophie.lemaire@boulangerie-lemaire.fr"
SECRET = "s3cret-for-tests"


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    yield hook
    hook.close()


def contact_row(world, contact_id: int) -> tuple[str, list]:
    from sqlalchemy import select

    from agent.store.models_crm import Contact

    with world.service.store.read() as session:
        return tuple(session.execute(select(Contact.status, Contact.tags).where(Contact.id == contact_id)).one())


def smtp_of(sink) -> dict:
    return {"host": sink.host, "port": sink.port, "security": "plain", "sender": f"crm@{OWN}"}


def with_local_webhook(rules: list[dict], url: str) -> list[dict]:
    for rule in rules:
        for action in rule["do"]:
            if action["type"] == "webhook":
                action["url"] = url
    return rules


def test_a_purchase_order_makes_a_client_a_won_deal_and_alerts_the_manager(make_world, smtp_sink, receiver,
                                                                          monkeypatch):
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", SECRET)
    rules = with_local_webhook(example_rules("bon-de-commande-client", "alerte-gros-deal"), receiver.url)
    world = make_world(rules, smtp=smtp_of(smtp_sink))
    world.rules.configure(manager_address=MANAGER, manager_name="Marc Durand")
    contact_id = world.contact(SOPHIE, "Sophie Lemaire", company="Boulangerie Lemaire", status="prospect")
    order = world.mail(SOPHIE, CLAIRE, "Bon de commande signé – devis 2026-038",
                       attachments=("Bon_de_commande_2026-038_signe.pdf",),
                       body="Bonsoir Claire,\nci-joint le bon de commande signé.\nMontant total : 12 450,00 € HT\n")
    world.ingest(order)
    counts = world.rules.tick()
    assert counts["fired"] == 2  # the order rule, then the deal alert its deal change armed
    assert contact_row(world, contact_id) == ("client", ["commande-recue"])
    (deal,) = world.rules.deals()
    assert (deal["stage"], Decimal(deal["amount"])) == ("won", Decimal("12450.00"))
    assert deal["source"] == "bon-de-commande-client"
    delivered = world.rules.deliver_outbox()
    assert delivered == {"delivered": 2}
    (mail,) = smtp_sink.wait_for(1)
    message = mail.parsed()
    assert mail.rcpt_tos == [MANAGER]
    # single-line rendering folds every kind of space, the narrow no-break one of amounts included
    assert message["Subject"] == "Deal important : Bon de commande signé – devis 2026-038 (12 450,00 €)"
    assert message["X-CRM-Agent-Rule"] == "alerte-gros-deal"
    assert message["Message-ID"].strip().startswith("<crm-agent-rule.")
    (headers, body), = receiver.requests
    assert headers["x-crm-agent-signature"] == sign_webhook(SECRET, body)
    assert headers["idempotency-key"].startswith('["alerte-gros-deal", "deal"')
    assert json.loads(body) == {"text": "Deal Bon de commande signé – devis 2026-038 : 12\u202f450,00 €",
                                "stage": "won", "urgent": True}


def test_the_welcome_mail_goes_once_per_new_prospect_and_is_a_dry_run_by_default(make_world, smtp_sink):
    world = make_world(example_rules("bienvenue-prospect"), smtp=smtp_of(smtp_sink))
    world.rules.configure(manager_address=MANAGER, manager_name="Marc Durand")
    world.contact("ancien@client.fr", "Ancien Client", status="prospect")  # before the engine ever ran
    world.rules.tick()
    world.contact("paul.neuf@prospect.fr", "Paul Neuf", status="prospect")
    world.contact("lea.lead@autre.fr", "Léa Lead", status="lead")
    assert world.rules.tick()["fired"] == 1
    world.contact("paul.neuf@prospect.fr", "Paul Neuf", status="prospect", tags=("salon",))  # updated, not created
    assert world.rules.tick().get("fired", 0) == 0
    (mail,) = world.rules.outbox()
    assert mail["status"] == "dry_run" and mail["to"] == ["paul.neuf@prospect.fr"] and mail["cc"] == [MANAGER]
    assert mail["subject"] == "Bienvenue chez nous, Paul"
    assert world.rules.deliver_outbox() == {}
    assert smtp_sink.messages == []


def test_the_welcome_mail_is_sent_once_dry_run_is_off(make_world, smtp_sink):
    rules = example_rules("bienvenue-prospect")
    rules[0]["do"][0]["dry_run"] = False
    world = make_world(rules, smtp=smtp_of(smtp_sink))
    world.rules.configure(manager_address=MANAGER, manager_name="Marc Durand")
    world.rules.tick()
    world.contact("paul.neuf@prospect.fr", "Paul Neuf", status="prospect")
    world.rules.run_due()
    world.rules.run_due()
    (mail,) = smtp_sink.wait_for(1)
    assert sorted(mail.rcpt_tos) == sorted(["paul.neuf@prospect.fr", MANAGER])
    assert "Bonjour Paul," in mail.parsed().get_content()
    assert "Marc Durand" in mail.parsed().get_content()


def test_the_weekly_report_is_mailed_monday_at_eight_paris_time(make_world, smtp_sink):
    world = make_world(example_rules("rapport-hebdo"), smtp=smtp_of(smtp_sink),
                       start=datetime(2026, 5, 7, 14, 40, tzinfo=UTC))
    world.rules.configure(manager_address=MANAGER, manager_name="Marc Durand")
    assert world.rules.tick()["schedules_armed"] == 1
    (timer,) = world.timers("pending")
    assert timer["due_at"] == "2026-05-11T08:00:00+02:00"
    client = "jean.dupont@acme.fr"
    question = world.mail(client, CLAIRE, "Question", thread="thread:q")
    world.ingest(question)
    world.clock.advance(timedelta(hours=2))
    world.ingest(world.mail(CLAIRE, client, "RE: Question", thread="thread:q"), mailbox="claire/Sent")
    world.clock.set(datetime(2026, 5, 11, 6, 0, 30, tzinfo=UTC))
    result = world.rules.run_due()
    assert result["timers"]["fired"] == 1 and result["outbox"] == {"delivered": 1}
    (mail,) = smtp_sink.wait_for(1)
    assert sorted(mail.rcpt_tos) == sorted([MANAGER, "direction@example.fr"])
    text = mail.parsed().get_content()
    assert mail.parsed()["Subject"] == "Activité commerciale — semaine du 04/05/2026"
    assert "Mails envoyés : 1 — reçus : 1" in text
    assert "Délai de réponse médian aux clients : 2,0 h" in text
    (following,) = world.timers("pending")
    assert following["due_at"] == "2026-05-18T08:00:00+02:00"


def test_a_manager_action_without_a_manager_is_recorded_as_failed_with_the_fix(make_world, smtp_sink):
    world = make_world(example_rules("rapport-hebdo"), smtp=smtp_of(smtp_sink))
    world.rules.tick()
    world.clock.advance(timedelta(days=5))
    world.rules.run_due()
    (mail,) = world.rules.outbox()
    assert mail["status"] == "delivered" and mail["to"] == ["direction@example.fr"]
    rules = example_rules("bienvenue-prospect")
    rules[0]["do"][0]["to"] = "manager"
    rules[0]["do"][0].pop("cc")
    other = make_world(rules, database=f"sqlite:///{world.settings.database.split('///')[1]}.2")
    other.rules.tick()
    other.contact("x@y.fr", "X Y", status="prospect")
    other.rules.tick()
    (failed,) = other.rules.outbox()
    assert failed["status"] == "failed" and "rules_engine.manager_address" in failed["last_error"]
