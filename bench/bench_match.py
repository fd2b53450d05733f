"""Benchmark matching: the match stage over 20,000 messages against 100,000 contacts, and re-matching after an import.

Two measurements, on SQLite (a file, WAL) and, with ``--postgres``, on a throwaway PostgreSQL cluster started here
(the test harness's, PostgreSQL 15 binaries):

1. **Match stage** (target >= 100,000 participants/s): a store of ``--contacts`` contacts (one address each, a
   third of them at one of ``--contacts // 5`` companies with a domain), and ``--messages`` mails already parsed
   into drafts (the identity stage's output: from, to, cc; one internal address each, 1 to 5 external ones of which
   70 % are contacts, 15 % unknown people at a company's domain, 15 % unknown elsewhere or on free mail). They run
   through ``stages.match`` exactly as the pipeline does — batches of ``--batch`` items (the default sync batch),
   one session per batch, one batch lookup of addresses (with alias forms) and of domains, then the links. Timed
   alone, and with the next stage (``stages.link_unknown``: review decisions, reply inheritance, auto-creation
   under the policy ``none``) for reference. Participants/s counts every participant of the batch (internal ones
   included: the stage sees them) and external ones separately.
2. **Re-match** (report the time): a store of ``--interactions`` interactions (three participants each on
   average, written by the upsert stage's repository), in which the addresses of ``--new-contacts`` future contacts
   appear ``--appearances`` times each; then ``import_contacts`` of those contacts (what `crm-agent contacts
   import` runs: creating contacts and companies, then re-linking their past participants in the same
   transaction), and ``relink_participants`` again on its own (idempotent: it writes nothing the second time).

Run: ``.venv/bin/python bench/bench_match.py [--postgres] [--contacts 100000] [--messages 20000]
[--interactions 200000] [--new-contacts 1000]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from _stores import bench_stores
from agent.config import Settings
from agent.matching.contacts_file import ContactRow
from agent.pipeline import stages
from agent.pipeline.account_sync import blocklist, match_policy
from agent.pipeline.context import Batch, WorkItem
from agent.pipeline.run import PipelineContext
from agent.records import Direction, InteractionDraft, ItemRef, ParticipantDraft, RawItem, Role, TargetRef
from agent.store import interactions_repo as repo
from agent.store import sync_repo
from agent.store.crm_repo import import_contacts, relink_participants
from agent.store.db import Store
from agent.store.models import Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.sql import dialect_insert

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
OWN = "atelier-durand.fr"
FREE = ("gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "hotmail.fr")


class Account:
    """The account settings the stages read."""

    name = "bench"
    visibility = "snippet"
    create_contacts = "none"


def settings() -> Settings:
    return Settings.model_validate({"database": "sqlite://", "own_domains": [OWN]})


def target(store: Store) -> int:
    with store.unit_of_work() as session:
        account, _ = sync_repo.ensure_account(session, "bench", "maildir", "", NOW)
        (row,) = sync_repo.ensure_targets(session, account, [TargetRef("bench", "INBOX")], NOW)
        return row.id


def insert(session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 5000):
        session.execute(dialect_insert(session, model), rows[start:start + 5000])


def fill_contacts(store: Store, contacts: int) -> list[str]:
    """Contacts c{n}@company{n % companies}.fr, a third of them with their company; returns their addresses."""
    companies = max(1, contacts // 5)
    with store.unit_of_work() as session:
        insert(session, Company, [{"id": n + 1, "name": f"Société {n}", "created_at": NOW, "updated_at": NOW,
                                   "details": {}} for n in range(companies)])
        insert(session, CompanyDomain, [{"company_id": n + 1, "domain": f"company{n}.fr"} for n in range(companies)])
        insert(session, Contact, [{"id": n + 1, "display_name": f"Prénom{n} Nom{n}", "created_at": NOW,
                                   "updated_at": NOW, "tags": [], "company_id": (n % companies) + 1 if n % 3 == 0
                                   else None} for n in range(contacts)])
        addresses = [f"c{n}@company{n % companies}.fr" for n in range(contacts)]
        insert(session, ContactAddress, [{"contact_id": n + 1, "address": a, "is_primary": True}
                                         for n, a in enumerate(addresses)])
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return addresses


def external_address(rng: random.Random, known: list[str], companies: int) -> str:
    roll = rng.random()
    if roll < 0.70:
        return rng.choice(known)
    if roll < 0.85:
        return f"new{rng.randint(0, 10**9)}@company{rng.randrange(companies)}.fr"
    domain = rng.choice(FREE) if rng.random() < 0.5 else f"elsewhere{rng.randint(0, 50000)}.fr"
    return f"x{rng.randint(0, 10**9)}@{domain}"


def drafts(count: int, rng: random.Random, known: list[str], companies: int, policy) -> list[InteractionDraft]:
    out = []
    for n in range(count):
        me = ParticipantDraft(f"{rng.choice(['claire', 'julien', 'marc'])}@{OWN}", Role.FROM, "Claire", True)
        others = [ParticipantDraft(external_address(rng, known, companies), rng.choice((Role.TO, Role.CC)), "")
                  for _ in range(rng.randint(1, 5))]
        outgoing = rng.random() < 0.5
        if not outgoing:
            me.role, others[0].role = Role.TO, Role.FROM
        out.append(InteractionDraft(f"mid:m{n}@bench", "email", NOW - timedelta(minutes=n), f"Sujet {n}",
                                    Direction.OUT if outgoing else Direction.IN, f"mid:m{n}@bench",
                                    [me, *others], message_id=f"m{n}@bench", content_hash=f"h{n}"))
    return out


def fresh_copy(draft: InteractionDraft) -> InteractionDraft:
    people = [ParticipantDraft(p.address, p.role, p.name, p.is_internal) for p in draft.participants]
    return InteractionDraft(draft.identity_key, draft.kind, draft.occurred_at, draft.subject, draft.direction,
                            draft.thread_key, people, message_id=draft.message_id, content_hash=draft.content_hash)


def bench_match(store: Store, contacts: int, messages: int, batch_size: int, repeat: int) -> dict:
    rng = random.Random(5)
    started = time.perf_counter()
    known = fill_contacts(store, contacts)
    load = time.perf_counter() - started
    config = settings()
    policy, blocked = match_policy(config), blocklist(config)
    mail = drafts(messages, rng, known, max(1, contacts // 5), policy)
    participants = sum(len(d.participants) for d in mail)
    external = sum(1 for d in mail for p in d.participants if not p.is_internal)
    target_id = target(store)
    timings: dict[str, list[float]] = {"match": [], "match+link_unknown": []}
    linked = 0
    for _ in range(repeat):
        for label, stage_list in (("match", (stages.match,)),
                                  ("match+link_unknown", (stages.match, stages.link_unknown))):
            elapsed = 0.0
            linked = 0
            for offset in range(0, len(mail), batch_size):
                part = [fresh_copy(d) for d in mail[offset:offset + batch_size]]
                session = store._sessions()
                try:
                    from agent.store.models import SyncTarget

                    ctx = PipelineContext(session=session, target=session.get(SyncTarget, target_id), account=Account(),
                                          policy=policy, is_blocked=blocked)
                    items = []
                    for d in part:
                        item = WorkItem(RawItem(ItemRef(d.identity_key, d.identity_key), b""))
                        item.drafts = [d]
                        items.append(item)
                    batch = Batch(items, ctx, NOW)
                    begin = time.perf_counter()
                    for stage in stage_list:
                        stage(batch)
                    elapsed += time.perf_counter() - begin
                    linked += sum(1 for d in part for p in d.participants if p.contact_id is not None)
                finally:
                    session.rollback()
                    session.close()
            timings[label].append(elapsed)
    best = {label: min(values) for label, values in timings.items()}
    return {"contacts": contacts, "load_s": round(load, 1), "messages": messages, "participants": participants,
            "external": external, "linked_to_contacts": linked, "batch": batch_size,
            "match_s": round(best["match"], 3),
            "match_participants_per_s": round(participants / best["match"]),
            "match_external_per_s": round(external / best["match"]),
            "match_s_median": round(statistics.median(timings["match"]), 3),
            "match_link_unknown_s": round(best["match+link_unknown"], 3),
            "match_link_unknown_participants_per_s": round(participants / best["match+link_unknown"])}


# ------------------------------------------------------------------------------------------------ 2. re-match


def history(count: int, rng: random.Random, future: list[str], appearances: int) -> list[InteractionDraft]:
    """Interactions with an internal sender or recipient and 1-3 outside people; the future contacts' addresses
    appear ``appearances`` times each, spread over the history."""
    slots = [a for a in future for _ in range(appearances)]
    rng.shuffle(slots)
    out = []
    for n in range(count):
        people = [ParticipantDraft(f"claire@{OWN}", Role.FROM, "", True)]
        people += [ParticipantDraft(f"p{rng.randint(0, 400_000)}@org{rng.randint(0, 40_000)}.fr", Role.TO, "")
                   for _ in range(rng.randint(1, 3))]
        if slots and n % max(1, count // len(slots)) == 0:
            people.append(ParticipantDraft(slots.pop(), Role.CC, ""))
        out.append(InteractionDraft(f"mid:h{n}@bench", "email", NOW - timedelta(minutes=n), f"Sujet {n}", Direction.OUT,
                                    f"mid:h{n}@bench", people, message_id=f"h{n}@bench", content_hash=f"h{n}"))
    for address in slots:  # whatever the spacing left over
        out[rng.randrange(count)].participants.append(ParticipantDraft(address, Role.CC, ""))
    return out


def bench_rematch(store: Store, interactions: int, new_contacts: int, appearances: int) -> dict:
    rng = random.Random(9)
    future = [f"nouveau{n}@client{n % 300}.fr" for n in range(new_contacts)]
    target_id = target(store)
    started = time.perf_counter()
    mail = history(interactions, rng, future, appearances)
    for offset in range(0, len(mail), 2000):
        with store.unit_of_work() as session:
            part = mail[offset:offset + 2000]
            repo.upsert_interactions(session, target_id, 0, [repo.Sighted(d.identity_key, d.identity_key, "", d)
                                                            for d in part], NOW)
    load = time.perf_counter() - started
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    with store.read() as session:
        participants = session.scalar(select(func.count()).select_from(Participant))
    rows = [ContactRow(line=n + 2, emails=(address,), first_name=f"Prénom{n}", last_name=f"Nom{n}",
                       company=f"Client {n % 300}") for n, address in enumerate(future)]
    policy = match_policy(settings())
    started = time.perf_counter()
    with store.unit_of_work() as session:
        result = import_contacts(session, rows, policy, NOW)
    imported = time.perf_counter() - started
    with store.unit_of_work() as session:
        ids = list(session.scalars(select(ContactAddress.contact_id).where(ContactAddress.address.in_(future[:1000]))))
        ids += list(session.scalars(select(ContactAddress.contact_id).where(ContactAddress.address.in_(future[1000:]))))
        started = time.perf_counter()
        again = relink_participants(session, contact_ids=ids, domains=[f"client{n}.fr" for n in range(300)])
        relink = time.perf_counter() - started
    with store.read() as session:
        linked = session.scalar(select(func.count()).select_from(Participant)
                                .where(Participant.contact_id.is_not(None)))
    return {"interactions": interactions, "participants": participants, "load_s": round(load, 1),
            "new_contacts": new_contacts, "appearances_each": appearances, "import_s": round(imported, 3),
            "relinked_rows": result.relinked, "participants_now_linked": linked,
            "relink_again_s": round(relink, 3), "relink_again_rows": again}


# ------------------------------------------------------------------------------------------------ main


def open_store(url: str, backend: str, random_page_cost: float | None) -> Store:
    store = Store(url)
    store.prepare()
    if backend == "postgresql" and random_page_cost is not None:
        with store.engine.connect() as conn:
            name = conn.exec_driver_sql("SELECT current_database()").scalar()
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET random_page_cost = {float(random_page_cost)}')
            conn.commit()
        store.dispose()
        store = Store(url)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--new-contacts", type=int, default=1000)
    parser.add_argument("--appearances", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL cluster")
    parser.add_argument("--pg-random-page-cost", type=float, default=None,
                        help="set PostgreSQL's random_page_cost on the bench databases (1.1 is the usual SSD setting)")
    args = parser.parse_args()
    with bench_stores("bench-match-", postgres=args.postgres) as targets:
        for backend, make_url in targets.items():
            store = open_store(make_url("match"), backend, args.pg_random_page_cost)
            print(f"[{backend}] match: {bench_match(store, args.contacts, args.messages, args.batch, args.repeat)}",
                  flush=True)
            store.dispose()
            store = open_store(make_url("rematch"), backend, args.pg_random_page_cost)
            print(f"[{backend}] rematch: "
                  f"{bench_rematch(store, args.interactions, args.new_contacts, args.appearances)}", flush=True)
            store.dispose()


if __name__ == "__main__":
    main()
