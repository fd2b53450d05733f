"""The demo fires the example rules on the sample: quotes left unanswered (or answered by an out-of-office only) get
a relance task, answered ones none, the quote of the day before stays armed; rule mail reaches the demo's sink."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from agent.demo.run import run_demo
from agent.demo.sample.expectations import ANCHOR, QUOTES, QuoteOutcome
from agent.store.db import Store
from agent.store.models import Interaction
from agent.store.models_crm import Contact, ContactAddress
from agent.store.models_rules import Task, Timer


@pytest.fixture(scope="module", params=[0, 2], ids=["anchor-week", "two-weeks-later"])
def demo(request, tmp_path_factory):
    result = run_demo(tmp_path_factory.mktemp("demo") / "ws", now=ANCHOR + timedelta(weeks=request.param, hours=1))
    store = Store(f"sqlite:///{result.workspace / 'crm-agent.db'}")
    yield result, store
    store.dispose()


def quote_timers(store: Store) -> dict[str, tuple[str, int]]:
    """quote number → (timer status, tasks of that timer)."""
    out = {}
    with store.read() as session:
        for quote in QUOTES:
            thread = session.scalar(select(Interaction.thread_key).where(Interaction.message_id == quote.message_id))
            timer = session.scalar(select(Timer).where(Timer.rule == "relance-devis", Timer.thread_key == thread))
            tasks = len(session.scalars(select(Task.id).where(Task.timer_id == timer.id)).all()) if timer else 0
            out[quote.number] = (timer.status if timer else "none", tasks)
    return out


def test_the_relance_follows_each_quotes_story(demo):
    result, store = demo
    timers = quote_timers(store)
    for quote in QUOTES:
        status, tasks = timers[quote.number]
        if quote.outcome in (QuoteOutcome.NO_REPLY, QuoteOutcome.AUTO_REPLY_ONLY):
            assert (status, tasks) == ("fired", 1), quote.number
        elif quote.outcome is QuoteOutcome.PENDING:
            assert (status, tasks) == ("pending", 0), quote.number
        else:
            assert (status, tasks) == ("cancelled", 0), quote.number
    story = result.extra["rules"]
    pending = [t["subject"] for t in story["pending_timers"] if t["rule"] == "relance-devis"]
    assert pending == [next(q.subject for q in QUOTES if q.outcome is QuoteOutcome.PENDING)]
    titles = " ".join(t["title"] for t in story["tasks"])
    for quote in QUOTES:
        assert (quote.subject in titles) == quote.relance_due, quote.number


def test_the_order_the_deal_alert_the_welcome_and_the_weekly_report(demo):
    result, store = demo
    story = result.extra["rules"]
    by_rule = {mail["rule"]: mail for mail in story["emails"]}
    assert sorted(by_rule) == ["alerte-gros-deal", "bienvenue-prospect", "rapport-hebdo"]
    assert len(story["emails"]) == 3
    assert by_rule["alerte-gros-deal"]["to"] == "marc.durand@atelier-durand.fr"
    assert "12 450,00 €" in by_rule["alerte-gros-deal"]["subject"]
    assert by_rule["bienvenue-prospect"]["to"] == "gerard.perrin@wanadoo.fr"
    assert by_rule["rapport-hebdo"]["subject"].startswith("Activité commerciale — semaine du ")
    (hook,) = story["webhooks"]
    assert hook["signature_ok"] and hook["body"]["stage"] == "won"
    (deal,) = story["deals"]
    assert (deal["stage"], deal["amount"]) == ("won", "12450.00")
    with store.read() as session:
        status = session.scalar(select(Contact.status).join(ContactAddress).where(
            ContactAddress.address == "sophie.lemaire@boulangerie-lemaire.fr"))
    assert status == "client"
    assert json.dumps(result.as_dict(), default=str)  # --json shows all of it
