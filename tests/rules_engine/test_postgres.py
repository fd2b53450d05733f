"""The engine on PostgreSQL too, and two workers firing the same store at once: each timer fires once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from agent.service import AgentService
from agent.store.models_rules import Task
from tests.rules_engine.support import OWN

QUOTES = 60


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'two.db'}"
    return request.getfixturevalue("pg_url")


def test_two_workers_ticking_together_fire_each_timer_once(make_world, database):
    world = make_world(database=database)
    quotes = [world.mail(f"claire@{OWN}", f"c{n}@client{n}.fr", f"Devis n°{n}") for n in range(QUOTES)]
    for sent in quotes:
        world.ingest(sent, mailbox="claire/Sent")
    world.clock.advance(timedelta(hours=1))
    reply = world.mail("c0@client0.fr", f"claire@{OWN}", "RE: Devis n°0", in_reply_to=quotes[0][0].message_id)
    world.ingest(reply)
    world.clock.advance(timedelta(days=6))
    workers = [AgentService(world.settings, clock=world.clock) for _ in range(2)]
    results: list[dict] = []
    barrier = threading.Barrier(len(workers))

    def work(service: AgentService) -> None:
        rules = service.feature("rules")
        rules.configure(claim_limit=4)
        barrier.wait()
        results.append(rules.tick())

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for w in workers:
        w.close()
    fired = sum(r.get("fired", 0) for r in results)
    assert fired == QUOTES - 1 and sum(r.get("cancelled", 0) for r in results) == 0
    with world.service.store.read() as session:
        per_timer = Counter(session.scalars(select(Task.timer_id)))
    assert len(per_timer) == QUOTES - 1 and set(per_timer.values()) == {1}
    statuses = Counter(t["status"] for t in world.timers())
    assert statuses == {"fired": QUOTES - 1, "cancelled": 1}


def test_cancel_rules_and_the_fire_time_check_on_both_databases(make_world, database):
    world = make_world(database=database)
    claire, client = f"claire@{OWN}", "jean@acme.fr"
    first = world.mail(claire, client, "Devis A", thread="thread:a")
    early_reply = world.mail(client, claire, "RE: Devis A", thread="thread:other", in_reply_to=first[0].message_id,
                             at=world.clock.now() + timedelta(hours=1))
    world.clock.advance(timedelta(hours=2))
    world.ingest(early_reply)  # the reply is stored first, under another thread key: In-Reply-To links them
    world.ingest(first, mailbox="claire/Sent")
    second = world.mail(claire, "paul@bois.fr", "Devis B")
    world.ingest(second, mailbox="claire/Sent")
    world.clock.advance(timedelta(days=8))
    world.ingest(world.mail("paul@bois.fr", claire, "RE: Devis B", thread=second[0].thread_key), hook=False)
    counts = world.rules.tick()
    assert counts.get("cancelled") == 1 and "fired" not in counts
    outcomes = sorted(t["outcome"].split(":")[0] for t in world.timers())
    assert outcomes == ["cancelled when armed", "checked when firing"]
