"""`rules simulate`: replays history through the live engine's decisions, explains each one, and writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from agent.errors import UserError
from agent.store.models_rules import OutboxMessage, RuleFiring, Task, Timer
from tests.rules_engine.support import OWN, example_rules

CLAIRE = f"claire.martin@{OWN}"


def table_counts(world) -> dict[str, int]:
    with world.service.store.read() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Timer, Task, OutboxMessage, RuleFiring)}


@pytest.fixture
def history(make_world):
    """Quotes with every fate, stored without the rule engine watching (as before the rule existed)."""
    world = make_world()
    start = world.clock.now()

    def at(days: float):
        return start + timedelta(days=days)

    answered = world.mail(CLAIRE, "a@client-a.fr", "Devis A", at=at(0))
    world.ingest(answered, world.mail("a@client-a.fr", CLAIRE, "RE: Devis A", at=at(1), thread=answered[0].thread_key,
                                      in_reply_to=answered[0].message_id), hook=False)
    revised = world.mail(CLAIRE, "a@client-a.fr", "Devis A révisé", at=at(2), thread=answered[0].thread_key)
    world.ingest(revised, hook=False)
    silent = world.mail(CLAIRE, "b@client-b.fr", "Devis B", at=at(0.5))
    world.ingest(silent, world.mail("b@client-b.fr", CLAIRE, "Absence", at=at(0.6), thread=silent[0].thread_key,
                                    headers={"Auto-Submitted": "auto-replied"}), hook=True)
    late = world.mail(CLAIRE, "c@client-c.fr", "Devis C", at=at(1))
    late_answer = world.mail("c@client-c.fr", CLAIRE, "RE: Devis C", at=at(12), thread=late[0].thread_key)
    world.ingest(late, late_answer, hook=False)
    world.ingest(world.mail(CLAIRE, "d@client-d.fr", "Devis D", at=at(14)), hook=False)
    world.ingest(world.mail(CLAIRE, "e@client-e.fr", "Planning de pose", at=at(3)), hook=False)
    world.clock.set(at(15))
    return world


def by_subject(result) -> dict[str, dict]:
    return {d["subject"]: d for d in result["decisions"]}


def test_simulate_says_what_would_have_fired_what_was_cancelled_and_why(history):
    before = table_counts(history)
    result = history.rules.simulate("relance-devis")
    assert table_counts(history) == before  # nothing written
    assert result["examined"] == 6 and result["matched"] == 5
    assert result["outcomes"] == {"cancelled": 1, "duplicate": 1, "would_fire": 2, "pending": 1}
    decisions = by_subject(result)
    assert decisions["Devis A"]["outcome"] == "cancelled"
    assert decisions["Devis A"]["because"].startswith("reply from a@client-a.fr")
    assert decisions["Devis A révisé"]["outcome"] == "not armed again"
    assert "once_per thread: already armed by mid:" in decisions["Devis A révisé"]["because"]
    assert decisions["Devis B"]["outcome"] == "would fire"  # its only answer is an auto-reply
    assert decisions["Devis C"]["outcome"] == "would fire"  # the reply came after the due time
    assert decisions["Devis D"]["outcome"] == "pending"
    assert any("skipped" in line or "due " in line for line in decisions["Devis D"]["why"])
    not_matched = result["not_matched"]
    assert not_matched["count"] == 1
    assert not_matched["examples"][0]["subject"] == "Planning de pose"
    assert "any: no alternative matched" in not_matched["examples"][0]["why"]


def test_simulate_shows_the_live_timer_beside_its_verdict_and_honours_since(history):
    history.rules.tick()  # the live engine armed "Devis B" only; its tick comes 9 days after the due time
    result = history.rules.simulate("relance-devis", since=date(2026, 5, 9))
    assert [(d["subject"], d["outcome"]) for d in result["decisions"]] == [
        ("Devis A révisé", "would fire"),  # seen alone, the revised quote starts the thread's timer
        ("Devis D", "pending")]
    full = by_subject(history.rules.simulate("relance-devis"))
    assert full["Devis B"]["outcome"] == "would fire"
    assert full["Devis B"]["live"]["status"] == "missed" and "grace" in full["Devis B"]["live"]["outcome"]
    assert "live" not in full["Devis D"]


def test_simulate_names_an_unknown_rule_with_a_suggestion(history):
    with pytest.raises(UserError, match='no rule named .relance-devi. \\(did you mean "relance-devis"\\?\\)'):
        history.rules.simulate("relance-devi")


def test_simulate_lists_the_fire_times_of_a_schedule(make_world):
    world = make_world(example_rules("rapport-hebdo"))
    world.clock.advance(timedelta(days=20))
    result = world.rules.simulate("rapport-hebdo", since=date(2026, 5, 7))
    assert [d["due_at"] for d in result["decisions"]] == [
        "2026-05-11T08:00:00+02:00", "2026-05-18T08:00:00+02:00", "2026-05-25T08:00:00+02:00"]
    assert result["outcomes"] == {"would_fire": 3}


def test_simulate_replays_contact_creation(make_world):
    world = make_world(example_rules("bienvenue-prospect"))
    world.contact("p@prospect.fr", "Paul Prospect", status="prospect")
    world.contact("l@lead.fr", "Léa Lead", status="lead")
    world.contact("p@prospect.fr", "Paul Prospect", status="prospect")
    result = world.rules.simulate("bienvenue-prospect")
    assert result["outcomes"] == {"would_fire": 1}
    assert result["not_matched"]["reasons"] == [["no participant has status prospect", 1]] or \
        result["not_matched"]["reasons"] == [("no participant has status prospect", 1)]
