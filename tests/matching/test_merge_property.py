"""Property: merges followed by their undos, last first, leave the store exactly as it was (every table, every row).

Each example writes its own random CRM (companies with domains, contacts with addresses, phones, tags and notes,
interactions whose participants carry every kind of link, tasks and deals pointing at the records) into a new
store, then merges random pairs of its contacts or companies and undoes the merges. Only the merge bookkeeping
(merge log, not-duplicate memory, candidates) may differ afterwards.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.matching import merge as merging
from agent.store.base import Base
from agent.store.db import Store
from agent.store.models import Interaction, Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.models_matching import ContactPhone
from agent.store.models_rules import Deal, Task
from tests.matching.review_world import table_rows

BOOKKEEPING = frozenset({"merge_log", "not_duplicate", "duplicate_candidate"})
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REASONS = ("exact", "alias", "manual", "created", "reply-inherited", None)
COMPANY_REASONS = ("exact", "alias", "domain", "manual", "created", "reply-inherited", None)
_unique = itertools.count(1)


@pytest.fixture(scope="module")
def new_store(tmp_path_factory):
    """A fresh store per example: the tables straight from the models (the migrations are tested elsewhere)."""
    folder = tmp_path_factory.mktemp("prop")
    made: list[Store] = []

    def make() -> Store:
        store = Store(f"sqlite:///{folder / f'store{len(made)}.db'}")
        Base.metadata.create_all(store.engine)
        made.append(store)
        return store

    yield make
    for store in made:
        store.dispose()


text = st.sampled_from(["", "Sophie", "LEMAIRE", "Jean-Pierre", "Noël", "x"])
day = st.integers(min_value=0, max_value=30)

company_st = st.fixed_dictionaries({
    "name": st.sampled_from(["Acme", "ACME SAS", "Boulangerie Lemaire", ""]),
    "phone": st.sampled_from(["", "+33465712014"]),
    "city": st.sampled_from(["", "Lyon"]), "siren": st.sampled_from(["", "552120222"]),
    "details": st.sampled_from([{}, {"size": "10"}, {"size": "20", "sector": "bois"}]),
    "source": st.sampled_from(["import", "auto", "manual"]), "created": day, "updated": day,
    "domains": st.integers(0, 2),
})
contact_st = st.fixed_dictionaries({
    "display_name": text, "first_name": text, "last_name": text, "title": text,
    "status": st.sampled_from(["", "client"]), "phone": st.sampled_from(["", "+33465712014", "+33639984127"]),
    "tags": st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
    "notes": st.sampled_from(["", "note un", "note deux"]), "source": st.sampled_from(["import", "auto", "review"]),
    "created": day, "updated": day, "addresses": st.integers(0, 3), "primary": st.booleans(),
    "phones": st.lists(st.sampled_from(["+33465712014", "+33639984127", "+33700000000"]), max_size=2, unique=True),
    "company": st.integers(-1, 3),
})
world_st = st.fixed_dictionaries({
    "companies": st.lists(company_st, min_size=2, max_size=4),
    "contacts": st.lists(contact_st, min_size=2, max_size=5),
    "interactions": st.lists(st.lists(st.tuples(st.integers(0, 12), st.sampled_from(["from", "to", "cc"]),
                                                st.integers(-1, 4), st.sampled_from(REASONS), st.integers(-1, 3),
                                                st.sampled_from(COMPANY_REASONS)), max_size=4), max_size=5),
    "tasks": st.lists(st.tuples(st.integers(-1, 4), st.integers(-1, 3)), max_size=3),
    "merges": st.lists(st.tuples(st.sampled_from(["contact", "company"]), st.integers(0, 4), st.integers(0, 4)),
                       min_size=1, max_size=3),
})


def build(session, spec) -> tuple[list[int], list[int], list[str]]:
    tag = next(_unique)
    companies, contacts, addresses = [], [], []
    for index, c in enumerate(spec["companies"]):
        company = Company(name=c["name"], phone=c["phone"], city=c["city"], siren=c["siren"], details=c["details"],
                          source=c["source"], created_at=T0 + timedelta(days=c["created"]),
                          updated_at=T0 + timedelta(days=c["updated"]))
        session.add(company)
        session.flush()
        companies.append(company.id)
        for d in range(c["domains"]):
            session.add(CompanyDomain(company_id=company.id, domain=f"c{tag}-{index}-{d}.fr"))
    for index, c in enumerate(spec["contacts"]):
        company_id = companies[c["company"] % len(companies)] if c["company"] >= 0 else None
        contact = Contact(display_name=c["display_name"], first_name=c["first_name"], last_name=c["last_name"],
                          title=c["title"], status=c["status"], phone=c["phone"], tags=c["tags"], notes=c["notes"],
                          source=c["source"], company_id=company_id, created_at=T0 + timedelta(days=c["created"]),
                          updated_at=T0 + timedelta(days=c["updated"]))
        session.add(contact)
        session.flush()
        contacts.append(contact.id)
        for a in range(c["addresses"]):
            address = f"p{index}-{a}@c{tag}-{a % 2}-0.fr"
            addresses.append(address)
            session.add(ContactAddress(contact_id=contact.id, address=address, is_primary=c["primary"] and a == 0))
        for phone in c["phones"]:
            session.add(ContactPhone(contact_id=contact.id, phone=phone, source="import"))
    addresses += [f"unknown{tag}-{n}@ailleurs.fr" for n in range(3)]
    for n, people in enumerate(spec["interactions"]):
        interaction = Interaction(identity_key=f"mid:{tag}-{n}@x", kind="email", occurred_at=T0 + timedelta(days=n),
                                  direction="in", thread_key=f"mid:{tag}-{n}@x", first_seen_at=T0, updated_at=T0,
                                  details={})
        session.add(interaction)
        session.flush()
        seen = set()
        for address_i, role, contact_i, reason, company_i, company_reason in people:
            address = addresses[address_i % len(addresses)]
            if (address, role) in seen:
                continue
            seen.add((address, role))
            session.add(Participant(
                interaction_id=interaction.id, address=address, domain=address.rpartition("@")[2], role=role,
                contact_id=contacts[contact_i % len(contacts)] if contact_i >= 0 else None,
                contact_reason=reason if contact_i >= 0 else None,
                company_id=companies[company_i % len(companies)] if company_i >= 0 else None,
                company_reason=company_reason if company_i >= 0 else None))
    for contact_i, company_i in spec["tasks"]:
        contact_id = contacts[contact_i % len(contacts)] if contact_i >= 0 else None
        company_id = companies[company_i % len(companies)] if company_i >= 0 else None
        session.add(Task(title="t", created_at=T0, contact_id=contact_id))
        session.add(Deal(name="d", contact_id=contact_id, company_id=company_id, created_at=T0, updated_at=T0))
    session.flush()
    return contacts, companies, addresses


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(spec=world_st)
def test_merges_then_their_undos_are_the_identity(new_store, spec):
    store = new_store()
    with store.unit_of_work() as session:
        contacts, companies, _ = build(session, spec)
    with store.read() as session:
        before = table_rows(session, BOOKKEEPING)
    done = []
    merged_away: set[tuple[str, int]] = set()
    now = T0 + timedelta(days=60)
    for kind, keep_i, other_i in spec["merges"]:
        pool = contacts if kind == "contact" else companies
        keep, other = pool[keep_i % len(pool)], pool[other_i % len(pool)]
        if keep == other or (kind, keep) in merged_away or (kind, other) in merged_away:
            continue
        with store.unit_of_work() as session:
            done.append(merging.merge(session, kind, keep, other, now).id)
        merged_away.add((kind, other))
    for merge_id in reversed(done):
        with store.unit_of_work() as session:
            merging.unmerge(session, merge_id, now)
    with store.read() as session:
        assert table_rows(session, BOOKKEEPING) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(spec=world_st, arrivals=st.lists(st.integers(0, 12), min_size=1, max_size=4))
def test_mail_arriving_between_merge_and_undo_follows_its_address(new_store, spec, arrivals):
    from sqlalchemy import select

    from agent.store.interactions_repo import lookup_addresses

    store = new_store()
    with store.unit_of_work() as session:
        contacts, companies, addresses = build(session, spec)
    with store.read() as session:
        before = table_rows(session, BOOKKEEPING)
    done, merged_away = [], set()
    now = T0 + timedelta(days=60)
    for kind, keep_i, other_i in spec["merges"]:
        pool = contacts if kind == "contact" else companies
        keep, other = pool[keep_i % len(pool)], pool[other_i % len(pool)]
        if keep != other and (kind, keep) not in merged_away and (kind, other) not in merged_away:
            with store.unit_of_work() as session:
                done.append(merging.merge(session, kind, keep, other, now).id)
            merged_away.add((kind, other))
    with store.unit_of_work() as session:  # new mail, linked the way the match stage links it
        interaction = Interaction(identity_key=f"mid:new-{next(_unique)}@x", kind="email", occurred_at=now,
                                  direction="in", thread_key="mid:new@x", first_seen_at=now, updated_at=now,
                                  details={})
        session.add(interaction)
        session.flush()
        arriving = list(dict.fromkeys(addresses[i % len(addresses)] for i in arrivals))
        hits = lookup_addresses(session, arriving)
        for address in arriving:
            hit = hits.get(address)
            reason = ("exact" if hit.is_primary else "alias") if hit else None
            session.add(Participant(interaction_id=interaction.id, address=address, domain=address.rpartition("@")[2],
                                    role="from", contact_id=hit.contact_id if hit else None, contact_reason=reason,
                                    company_id=hit.company_id if hit else None,
                                    company_reason=reason if hit and hit.company_id else None))
        new_id = interaction.id
    for merge_id in reversed(done):
        with store.unit_of_work() as session:
            merging.unmerge(session, merge_id, now)
    with store.read() as session:
        after = table_rows(session, BOOKKEEPING)
        owners = {a: (c, p) for a, c, p in session.execute(
            select(ContactAddress.address, ContactAddress.contact_id, ContactAddress.is_primary))}
        company_of = dict(session.execute(select(Contact.id, Contact.company_id)).all())
        arrived = session.execute(select(Participant.address, Participant.contact_id, Participant.contact_reason,
                                         Participant.company_id).where(Participant.interaction_id == new_id)).all()
    for name in ("contact", "contact_address", "contact_phone", "company", "company_domain", "task", "deal"):
        assert after[name] == before[name], name
    assert set(before["participant"]) <= set(after["participant"])
    for address, contact_id, reason, company_id in arrived:
        if address in owners:
            owner, primary = owners[address]
            assert (contact_id, reason) == (owner, "exact" if primary else "alias"), address
            assert company_id == company_of[owner], address
        else:
            assert contact_id is None
