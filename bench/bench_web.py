"""Benchmark the status page: server time of the overview over 100,000 interactions and 50 accounts (target 200 ms).

The store is filled with bulk inserts (no pipeline: only the rows' shape matters here): 50 configured accounts of
two targets each, 100,000 interactions over two years with their sightings and 2-3 participants each, 5,000
contacts and 1,000 companies, open tasks, pending and fired timers, a rule log, 2,000 unknown senders and 300
duplicate pairs in the review queues. The overview is then rendered ``--repeat`` times in process (Starlette's
TestClient: the whole ASGI stack, templates included, no network); the time of each request is the server time.
The parts (status, activity, panels, rendering) are timed on their own too, to show where the time goes.

Run: ``.venv/bin/python bench/bench_web.py [--postgres] [--interactions 100000] [--accounts 50] [--repeat 30]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from agent.clock import FakeClock  # noqa: E402
from agent.config import Settings  # noqa: E402
from agent.service import AgentService  # noqa: E402
from _stores import bench_stores  # noqa: E402
from agent.store.db import Store  # noqa: E402
from agent.store.models import Account, Interaction, Participant, Sighting, SyncTarget  # noqa: E402
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress  # noqa: E402
from agent.store.models_rules import RuleFiring, Task, Timer  # noqa: E402
from agent.web.app import create_app  # noqa: E402

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
CHUNK = 5000


def insert(store: Store, model, rows: list[dict]) -> None:
    table = model.__table__
    with store.unit_of_work() as session:
        for start in range(0, len(rows), CHUNK):
            session.execute(table.insert(), rows[start:start + CHUNK])


def fill(store: Store, interactions: int, accounts: int, rng: random.Random) -> None:
    """The rows, id by id (ids are set explicitly so the tables can refer to each other without reading back)."""
    insert(store, Account, [{"id": a, "name": f"mailbox{a:02d}", "kind": "maildir", "config_hash": "",
                             "created_at": NOW - timedelta(days=800), "details": {}} for a in range(1, accounts + 1)])
    targets = []
    for a in range(1, accounts + 1):
        for offset, (name, role) in enumerate((("INBOX", "inbox"), ("Sent", "sent"))):
            failed = a % 17 == 0 and role == "inbox"
            targets.append({"id": 2 * a - 1 + offset, "account_id": a, "name": name, "kind": "mail", "role": role,
                            "display": name, "cursor": "{}", "stage": "ACTIVE" if not failed else "PENDING_INCREMENTAL",
                            "status": "ACTIVE" if not failed else "FAILED", "full_listing": False,
                            "listing_generation": 1, "last_success_at": NOW - timedelta(minutes=rng.randint(1, 30)),
                            "last_attempt_at": NOW - timedelta(minutes=1), "failures": 3 if failed else 0,
                            "last_error": "connection reset by peer" if failed else "",
                            "error_kind": "temporary" if failed else "", "items_synced": interactions // accounts // 2,
                            "items_skipped": 10, "known_items": interactions // accounts // 2})
    insert(store, SyncTarget, targets)
    companies = 1000
    insert(store, Company, [{"id": c, "name": f"Société {c}", "source": "import", "details": {},
                             "created_at": NOW, "updated_at": NOW} for c in range(1, companies + 1)])
    insert(store, CompanyDomain, [{"id": c, "company_id": c, "domain": f"client{c}.fr"}
                                  for c in range(1, companies + 1)])
    contacts = 5000
    insert(store, Contact, [{"id": c, "display_name": f"Contact {c}", "first_name": "Contact", "last_name": str(c),
                             "company_id": 1 + c % companies, "status": "client", "tags": [], "source": "import",
                             "created_at": NOW, "updated_at": NOW} for c in range(1, contacts + 1)])
    insert(store, ContactAddress, [{"id": c, "contact_id": c, "address": f"contact{c}@client{1 + c % companies}.fr",
                                    "is_primary": True} for c in range(1, contacts + 1)])
    rows, sightings, participants = [], [], []
    for i in range(1, interactions + 1):
        when = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 730))
        meeting = i % 12 == 0
        rows.append({"id": i, "identity_key": f"mid:m{i}@bench", "kind": "meeting" if meeting else "email",
                     "occurred_at": when, "subject": f"Devis n°{i}", "snippet": "Bonjour, veuillez trouver...",
                     "body": "", "direction": "in" if i % 3 else "out", "thread_key": f"t{i // 3}",
                     "message_id": f"m{i}@bench", "content_hash": "", "status": "", "details": {},
                     "first_seen_at": when, "updated_at": when})
        target = 1 + i % (2 * accounts)
        sightings.append({"id": i, "interaction_id": i, "target_id": target, "location": f"{target}/1/{i}",
                          "item_location": f"{target}/1/{i}", "seen_at": when, "generation": 1})
        contact = 1 + i % contacts
        participants.append({"interaction_id": i, "address": f"contact{contact}@client{1 + contact % companies}.fr",
                             "domain": f"client{1 + contact % companies}.fr", "name": f"Contact {contact}",
                             "role": "from", "is_internal": False, "contact_id": contact, "contact_reason": "exact",
                             "company_id": 1 + contact % companies, "company_reason": "exact"})
        unlinked = {"contact_id": None, "contact_reason": None, "company_id": None, "company_reason": None}
        participants.append({"interaction_id": i, "address": f"user{i % accounts}@atelier-durand.fr",
                             "domain": "atelier-durand.fr", "name": "", "role": "to", "is_internal": True, **unlinked})
        if i % 2:
            participants.append({"interaction_id": i, "address": f"cc{i % 97}@client{i % companies + 1}.fr",
                                 "domain": f"client{i % companies + 1}.fr", "name": "", "role": "cc",
                                 "is_internal": False, **unlinked})
    insert(store, Interaction, rows)
    insert(store, Sighting, sightings)
    insert(store, Participant, participants)
    insert(store, Timer, [{"id": t, "dedupe_key": f'["relance-devis","thread","t{t}"]', "rule": "relance-devis",
                           "event": "email.sent", "status": "pending" if t <= 2000 else "fired",
                           "due_at": NOW + timedelta(hours=t % 200 - 50), "event_at": NOW - timedelta(days=3),
                           "armed_at": NOW - timedelta(days=3), "outcome": "", "attempts": 0, "interaction_id": t,
                           "thread_key": f"t{t}", "payload": {"subject": f"Devis n°{t}",
                                                              "contact": {"address": f"contact{t}@client1.fr"}}}
                          for t in range(1, 4001)])
    insert(store, Task, [{"id": t, "timer_id": 2000 + t, "action_index": 0, "rule": "relance-devis",
                          "title": f"Relancer Contact {t} — Devis n°{t}", "status": "open" if t <= 200 else "done",
                          "created_at": NOW - timedelta(days=1), "contact_id": t, "interaction_id": t}
                         for t in range(1, 1001)])
    insert(store, RuleFiring, [{"rule": "relance-devis", "decision": ("armed", "fired", "cancelled")[f % 3],
                                "timer_id": 1 + f % 4000, "reasons": ["bench"], "at": NOW - timedelta(minutes=f)}
                               for f in range(5000)])
    fill_review(store, interactions, contacts)


def fill_review(store: Store, interactions: int, contacts: int) -> None:
    try:
        from agent.store.models_matching import DuplicateCandidate, ReviewUnknown
    except ImportError:  # a build without the matching feature: its panel says "not available"
        return
    insert(store, ReviewUnknown, [{"address": f"unknown{u}@prospect{u % 300}.fr", "name": f"Inconnu {u}",
                                   "domain": f"prospect{u % 300}.fr", "kind": "person", "count": 1 + u % 9,
                                   "sent_count": 0, "first_seen": NOW - timedelta(days=u % 90),
                                   "last_seen": NOW - timedelta(days=u % 30), "last_interaction_id": 1 + u,
                                   "status": "pending", "reason": "received only"} for u in range(2000)])
    insert(store, DuplicateCandidate, [{"kind": "contact", "a_id": 1 + 2 * p, "b_id": 2 + 2 * p, "score": 0.9,
                                        "reasons": ["same last name"], "status": "pending", "found_at": NOW}
                                       for p in range(300)])


def settings_for(url: str, accounts: int) -> Settings:
    return Settings.model_validate({
        "database": url, "own_domains": ["atelier-durand.fr"], "timezone": "Europe/Paris",
        "accounts": [{"name": f"mailbox{a:02d}", "kind": "maildir", "path": f"/nonexistent/{a}"}
                     for a in range(1, accounts + 1)],
        "rules": [{"name": "relance-devis", "on": "email.sent", "after": "3 business days", "unless": ["reply"],
                   "when": {"subject": "(?i)^devis"}, "do": [{"type": "task", "title": "Relancer"}]}],
    })


def timed(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def measure(url: str, args) -> dict:
    from agent.web import content

    store = Store(url)
    store.prepare()
    started = time.perf_counter()
    fill(store, args.interactions, args.accounts, random.Random(7))
    build = time.perf_counter() - started
    service = AgentService(settings_for(url, args.accounts), clock=FakeClock(NOW), store=store)
    client = TestClient(create_app(service), base_url="http://127.0.0.1:8765", client=("127.0.0.1", 5000))
    first = time.perf_counter()
    page = client.get("/")
    cold = time.perf_counter() - first
    assert page.status_code == 200 and page.text.count("<tr") >= 2 * args.accounts, page.text[:500]
    pages, apis = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        assert client.get("/").status_code == 200
        pages.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert client.get("/api/overview").status_code == 200
        apis.append(time.perf_counter() - start)
    parts: dict[str, list[float]] = {"status": [], "activity": [], "tasks+relances": [], "review counts": []}
    for _ in range(args.repeat):
        for name, call in (("status", service.status), ("activity", lambda: service.activity(days=60)),
                           ("tasks+relances", lambda: (content.tasks_panel(service, open_only=True, limit=20),
                                                       content.relances_panel(service, limit=20))),
                           ("review counts", lambda: content.review_counts(service))):
            start = time.perf_counter()
            call()
            parts[name].append(time.perf_counter() - start)
    client.close()
    service.close()
    return {"build_s": round(build, 1), "cold_first_ms": round(cold * 1000, 1), "overview_html": timed(pages),
            "overview_json": timed(apis), "html_bytes": len(page.content),
            "parts": {name: timed(samples) for name, samples in parts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    with bench_stores("bench-web-", postgres=args.postgres) as targets:
        for backend, make_url in targets.items():
            print(f"[{backend}] {measure(make_url('web'), args)}", flush=True)


if __name__ == "__main__":
    main()
