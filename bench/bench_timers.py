"""Benchmark the rule engine: one scheduler tick over 100,000 pending timers, arming cost, and `rules simulate`.

Three measurements, each on SQLite (a file, WAL) and, with ``--postgres``, on a throwaway PostgreSQL cluster
started here (the test harness's, PostgreSQL 15 binaries):

1. **Claim**: 100,000 pending timers, ``--due`` of them due. One claim — the indexed range read of due, unleased
   timers plus the UPDATE that leases them, in one transaction, as ``Scheduler.tick`` does — timed ``--repeat``
   times (leases released between runs); the target is <= 50 ms. The whole tick (claim, then fire each due timer
   in its own transaction with a task action) is timed too.
2. **Arming**: quote mails (every one matches "relance-devis") written as the pipeline's upsert stage writes them,
   in batches of 100, with and without the rules hook; the difference per interaction is the arming cost. It runs
   on the store of measurement 3, so the reply look-ups search a realistic history.
3. **Simulate**: 100,000 stored interactions (threads of quotes, replies, auto-replies, other mail), replayed
   against "relance-devis" by ``simulate`` from the beginning.

Run: ``.venv/bin/python bench/bench_timers.py [--postgres] [--timers 100000] [--due 200] [--interactions 100000]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from _stores import bench_stores
from agent.records import Direction, InteractionDraft, ParticipantDraft, Role
from agent.rules import timers
from agent.rules.arming import on_new_interactions
from agent.rules.engine import EngineOptions, RuleEngine
from agent.rules.facts import row_from_draft
from agent.rules.firing import Scheduler
from agent.rules.schedule import BusinessCalendar
from agent.rules.simulate import simulate
from agent.rules.spec import parse_rules
from agent.store import interactions_repo as repo
from agent.store import sync_repo
from agent.store.db import Store
from agent.store.models import Interaction
from agent.store.models_rules import Timer
from agent.store.sql import dialect_insert

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
OWN = "atelier-durand.fr"
ZONE = "Europe/Paris"


def engine_for() -> RuleEngine:
    raw = tomllib.loads((ROOT / "tests" / "rules" / "example_rules.toml").read_text(encoding="utf-8"))["rules"]
    rules = parse_rules([r for r in raw if r["name"] == "relance-devis"], timezone=ZONE, country="FR")
    return RuleEngine(rules, BusinessCalendar("FR", None, ZONE), EngineOptions(claim_limit=100_000))


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


# ------------------------------------------------------------------------------------------------ 1. claim


def fill_timers(store: Store, count: int, due: int, rng: random.Random) -> None:
    rows = []
    for n in range(count):
        late = n < due
        offset = timedelta(minutes=rng.randint(1, 600) if late else -rng.randint(1, 60 * 24 * 30))
        when = NOW - offset
        rows.append({"dedupe_key": f'["relance-devis", "thread", "t{n}"]', "rule": "relance-devis",
                     "event": "email.sent", "status": "pending", "due_at": when, "event_at": when - timedelta(days=3),
                     "armed_at": when - timedelta(days=3), "outcome": "", "attempts": 0, "thread_key": f"t{n}",
                     "payload": {"subject": f"Devis n°{n}", "contact": {"address": f"c{n}@client.fr"}}})
    rng.shuffle(rows)
    with store.unit_of_work() as session:
        for start in range(0, len(rows), 5000):
            session.execute(dialect_insert(session, Timer), rows[start:start + 5000])
    with store.engine.connect() as conn:  # fresh statistics, as a long-running store has
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def bench_claim(store: Store, count: int, due: int, repeat: int) -> dict:
    fill_timers(store, count, due, random.Random(7))
    samples, found = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        with store.unit_of_work() as session:
            claimed = timers.claim_due(session, NOW, "bench", timedelta(minutes=5), 100_000,
                                       ["relance-devis"], ["relance-devis"])
        samples.append(time.perf_counter() - started)
        found = len(claimed)
        with store.unit_of_work() as session:
            session.execute(update(Timer).where(Timer.lease_owner == "bench")
                            .values(lease_owner=None, lease_until=None))
    engine = engine_for()
    started = time.perf_counter()
    counts = Scheduler(store, engine, engine.calendar.zone, "bench-tick").tick(NOW)
    tick_seconds = time.perf_counter() - started
    return {"pending": count, "due": due, "claimed": found, "claim_ms_median": median_ms(samples),
            "claim_ms_max": round(max(samples) * 1000, 2), "tick_fired": counts.get("fired", 0),
            "tick_s": round(tick_seconds, 3)}


# ------------------------------------------------------------------------------------------------ 3. history


def _draft(n: int, when: datetime, sender: str, to: str, subject: str, thread: str, *, in_reply_to: str | None = None,
           body: str = "") -> InteractionDraft:
    out = sender.endswith(OWN)
    details = {"in_reply_to": in_reply_to} if in_reply_to else {}
    return InteractionDraft(
        identity_key=f"mid:b{n}@bench", kind="email", occurred_at=when, subject=subject,
        direction=Direction.OUT if out else Direction.IN, thread_key=thread,
        participants=[ParticipantDraft(sender, Role.FROM, "", out), ParticipantDraft(to, Role.TO, "", not out)],
        snippet=body[:300], message_id=f"b{n}@bench", content_hash=f"h{n}", details=details)


def history(count: int, rng: random.Random, start_at: int = 0) -> list[InteractionDraft]:
    """Threads over two years: a quote answered, unanswered or auto-answered, or other mail."""
    drafts: list[InteractionDraft] = []
    n = start_at
    begin = NOW - timedelta(days=730)
    while len(drafts) < count:
        when = begin + timedelta(minutes=rng.randint(0, 730 * 24 * 60))
        client = f"client{rng.randint(1, 3000)}@societe{rng.randint(1, 800)}.fr"
        me = f"{rng.choice(['claire', 'julien', 'marc'])}@{OWN}"
        thread = f"thread:{n}"
        kind = rng.random()
        if kind < 0.25:
            drafts.append(_draft(n, when, me, client, f"Devis n°{n} — agencement", thread,
                                 body="Bonjour, voici notre devis. Montant total : 12 450,00 € HT"))
            first = n
            if rng.random() < 0.6:
                n += 1
                drafts.append(_draft(n, when + timedelta(hours=rng.randint(2, 200)), client, me, f"RE: Devis n°{first}",
                                     thread, in_reply_to=f"b{first}@bench"))
        else:
            subject = rng.choice(["Question livraison", "Rendez-vous", "Facture"])
            drafts.append(_draft(n, when, client, me, subject, thread))
            if rng.random() < 0.5:
                n += 1
                drafts.append(_draft(n, when + timedelta(hours=3), me, client, "RE: votre message", thread))
        n += 1
    return drafts[:count]


def write(store: Store, drafts: list[InteractionDraft], engine: RuleEngine | None, batch: int) -> float:
    """Write drafts in batches as the upsert stage does (plus the rules hook when ``engine``); returns seconds."""
    with store.unit_of_work() as session:
        account, _ = sync_repo.ensure_account(session, "bench", "maildir", "", NOW)
        from agent.records import TargetRef

        (target,) = sync_repo.ensure_targets(session, account, [TargetRef("bench", "INBOX")], NOW)
        target_id = target.id
    started = time.perf_counter()
    for offset in range(0, len(drafts), batch):
        part = drafts[offset:offset + batch]
        with store.unit_of_work() as session:
            sighted = [repo.Sighted(f"bench/{d.identity_key}", f"bench/{d.identity_key}", "", d) for d in part]
            written = repo.upsert_interactions(session, target_id, 0, sighted, NOW)
            if engine is not None:
                rows = [row_from_draft(d, w.interaction_id, None)
                        for d, w in zip(part, written, strict=True) if w.created]
                on_new_interactions(session, engine, rows, NOW)
    return time.perf_counter() - started


def bench_history(store: Store, count: int, arming: int) -> dict:
    rng = random.Random(11)
    engine = engine_for()
    started = time.perf_counter()
    write(store, history(count, rng), None, 1000)
    load_seconds = time.perf_counter() - started
    with store.read() as session:
        stored = session.scalar(select(func.count()).select_from(Interaction))
    with store.read() as session:
        started = time.perf_counter()
        result = simulate(session, engine, engine.rules[0], NOW - timedelta(days=800), NOW, engine.calendar.zone)
        simulate_seconds = time.perf_counter() - started
    # Arming: fresh quotes (recent, as live mail is) with the hook, against the same amount without it.
    recent = [_draft(10_000_000 + n, NOW - timedelta(minutes=n), f"claire@{OWN}", f"new{n}@prospect.fr",
                     f"Devis n°N{n}", f"thread:new{n}") for n in range(2 * arming)]
    plain = write(store, recent[:arming], None, 100)
    hooked = write(store, recent[arming:], engine, 100)
    with store.read() as session:
        armed = session.scalar(select(func.count()).select_from(Timer).where(Timer.thread_key.like("thread:new%")))
    return {"interactions": stored, "load_s": round(load_seconds, 1), "simulate_s": round(simulate_seconds, 2),
            "simulate_examined": result["examined"], "simulate_outcomes": result["outcomes"],
            "arming_mails": arming, "armed": armed, "write_ms_per_mail": round(plain / arming * 1000, 3),
            "write_with_rules_ms_per_mail": round(hooked / arming * 1000, 3),
            "arming_ms_per_mail": round((hooked - plain) / arming * 1000, 3)}


# ------------------------------------------------------------------------------------------------ main


def run_on(url: str, args) -> dict:
    results = {}
    store = Store(url)
    store.prepare()
    results["claim"] = bench_claim(store, args.timers, args.due, args.repeat)
    store.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--arming", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    with bench_stores("bench-timers-", postgres=args.postgres) as targets:
        for backend, make_url in targets.items():
            claim = run_on(make_url("claim"), args)["claim"]
            print(f"[{backend}] claim: {claim}", flush=True)
            store = Store(make_url("history"))
            store.prepare()
            print(f"[{backend}] history: {bench_history(store, args.interactions, args.arming)}", flush=True)
            store.dispose()


if __name__ == "__main__":
    main()
