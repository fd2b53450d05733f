"""Store behaviour shared by SQLite and PostgreSQL: schema, idempotent upserts, identity, deletes by location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from agent.errors import UserError
from agent.records import Direction, InteractionDraft, MatchReason, ParticipantDraft, Role
from agent.store import interactions_repo as repo
from agent.store import sync_repo
from agent.store.db import Store
from agent.store.models import Interaction, Participant, Sighting, SyncTarget
from agent.records import TargetRef

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def draft(key: str, *, fp: str = "fp1", kind: str = "email", participants=None, subject="Devis") -> InteractionDraft:
    return InteractionDraft(
        identity_key=key, kind=kind, occurred_at=NOW - timedelta(days=1), subject=subject, direction=Direction.IN,
        thread_key="mid:root", message_id=key.removeprefix("mid:") if key.startswith("mid:") else None,
        content_hash=fp, participants=participants or [ParticipantDraft("a@acme.fr", Role.FROM, "A")],
    )


def target_id(store: Store, name: str = "INBOX", account: str = "acc") -> int:
    with store.unit_of_work() as s:
        row, _ = sync_repo.ensure_account(s, account, "imap", "h", NOW)
        return sync_repo.ensure_targets(s, row, [TargetRef(account, name)], NOW)[0].id


def write(store: Store, tid: int, items) -> list[repo.Written]:
    with store.unit_of_work() as s:
        return repo.upsert_interactions(s, tid, 0, [repo.Sighted(loc, loc, "", d) for loc, d in items], NOW)


def count(store: Store, model) -> int:
    with store.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_new_database_is_created_at_the_newest_schema(store):
    current, head = store.schema_state()
    assert current == head
    store.prepare()  # idempotent


def test_upsert_twice_is_a_no_op(store):
    tid = target_id(store)
    first = write(store, tid, [("acc/INBOX/1/1", draft("mid:a@x")), ("acc/INBOX/1/2", draft("mid:b@x"))])
    assert [w.created for w in first] == [True, True]
    again = write(store, tid, [("acc/INBOX/1/1", draft("mid:a@x")), ("acc/INBOX/1/2", draft("mid:b@x"))])
    assert [w.created for w in again] == [False, False]
    assert [w.interaction_id for w in again] == [w.interaction_id for w in first]
    assert count(store, Interaction) == 2 and count(store, Sighting) == 2 and count(store, Participant) == 2


def test_same_identity_at_two_locations_is_one_interaction_two_sightings(store):
    inbox, sent = target_id(store, "INBOX"), target_id(store, "Sent")
    a = write(store, inbox, [("acc/INBOX/1/7", draft("mid:z@x"))])
    b = write(store, sent, [("acc/Sent/1/3", draft("mid:z@x"))])
    assert a[0].interaction_id == b[0].interaction_id and b[0].created is False
    assert count(store, Interaction) == 1 and count(store, Sighting) == 2


def test_a_batch_holding_one_message_twice_writes_it_once(store):
    tid = target_id(store)
    written = write(store, tid, [("acc/INBOX/1/1", draft("mid:dup@x")), ("acc/INBOX/1/2", draft("mid:dup@x"))])
    assert written[0].created and not written[1].created
    assert count(store, Interaction) == 1 and count(store, Sighting) == 2


def test_reused_message_id_with_other_sender_or_date_is_kept_apart(store):
    tid = target_id(store)
    write(store, tid, [("acc/INBOX/1/1", draft("mid:reuse@x", fp="fp-one"))])
    written = write(store, tid, [("acc/INBOX/1/2", draft("mid:reuse@x", fp="fp-two"))])
    assert written[0].created
    with store.read() as s:
        keys = sorted(s.scalars(select(Interaction.identity_key)))
        flagged = s.scalar(select(Interaction.details).where(Interaction.identity_key != "mid:reuse@x"))
    assert keys == ["mid:reuse@x", "mid:reuse@x#fp-two"]
    assert flagged["message_id_conflict"] is True


def test_delete_by_location_keeps_identity_and_history(store):
    inbox, sent = target_id(store, "INBOX"), target_id(store, "Sent")
    write(store, inbox, [("acc/INBOX/1/1", draft("mid:k@x"))])
    write(store, sent, [("acc/Sent/1/1", draft("mid:k@x"))])
    with store.unit_of_work() as s:
        removed = sync_repo.delete_locations(s, s.get(SyncTarget, inbox), ["acc/INBOX/1/1"], now=NOW)
    assert removed == 1
    with store.read() as s:
        assert s.scalar(select(Interaction.removed_at)) is None  # still seen in Sent
    with store.unit_of_work() as s:
        sync_repo.delete_locations(s, s.get(SyncTarget, sent), ["acc/Sent/1/1"], now=NOW)
    with store.read() as s:
        assert s.scalar(select(Interaction.removed_at)) == NOW
    assert count(store, Interaction) == 1


def test_participants_keep_their_link_reasons(store):
    tid = target_id(store)
    p = ParticipantDraft("a@acme.fr", Role.FROM, "A", contact_id=None, company_id=None)
    p.contact_reason = None
    write(store, tid, [("acc/INBOX/1/1", draft("mid:p@x", participants=[p, ParticipantDraft("me@own.fr", Role.TO, is_internal=True)]))])
    with store.read() as s:
        rows = s.execute(select(Participant.address, Participant.role, Participant.is_internal, Participant.domain)).all()
    assert sorted(rows) == [("a@acme.fr", "from", False, "acme.fr"), ("me@own.fr", "to", True, "own.fr")]
    assert MatchReason.EXACT.value == "exact"


def test_meeting_edits_update_in_place_and_refresh_participants(store):
    tid = target_id(store)
    first = draft("ical:uid1", kind="meeting", fp="v1", participants=[ParticipantDraft("a@acme.fr", Role.ATTENDEE)])
    write(store, tid, [("cal/1.ics#ical:uid1", first)])
    edited = draft("ical:uid1", kind="meeting", fp="v2", subject="Moved",
                   participants=[ParticipantDraft("a@acme.fr", Role.ATTENDEE), ParticipantDraft("b@acme.fr", Role.ATTENDEE)])
    written = write(store, tid, [("cal/1.ics#ical:uid1", edited)])
    assert written[0].changed and not written[0].created
    with store.read() as s:
        assert s.scalar(select(Interaction.subject)) == "Moved"
        assert sorted(s.scalars(select(Participant.address))) == ["a@acme.fr", "b@acme.fr"]


def test_an_older_schema_is_refused_with_the_fix(tmp_path):
    from agent.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    s = Store(url)
    s.prepare()
    with s.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM alembic_version")
        conn.exec_driver_sql("INSERT INTO alembic_version (version_num) VALUES ('ffffffffffff')")
    with pytest.raises(UserError, match="newer than this crm-agent"):
        s.prepare()
    s.dispose()
    assert upgrade  # imported for the API check


def test_a_foreign_database_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE invoices (id integer)").connection.commit()
    with pytest.raises(UserError, match="not crm-agent's"):
        Store(f"sqlite:///{path}").prepare()


def test_the_migrations_build_exactly_the_schema_the_models_declare(store):
    # a new database is built by the migrations: a model change without its revision would ship a different schema
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from agent.store.base import Base

    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_address_lookups_span_several_slices_and_skip_merged_contacts(store):
    from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress

    with store.unit_of_work() as s:
        company = Company(name="Acme", created_at=NOW, updated_at=NOW, details={})
        s.add(company)
        s.flush()
        s.add(CompanyDomain(company_id=company.id, domain="acme.fr"))
        people = [Contact(display_name=n, created_at=NOW, updated_at=NOW, tags=[], company_id=company.id)
                  for n in ("first", "last", "merged")]
        s.add_all(people)
        s.flush()
        people[2].merged_into_id = people[0].id
        for person, address in zip(people, ("first@acme.fr", "last@acme.fr", "old@acme.fr"), strict=True):
            s.add(ContactAddress(contact_id=person.id, address=address, is_primary=True))
    # more addresses than one slice carries on either backend (500 on SQLite, 5,000 on PostgreSQL)
    wanted = ["first@acme.fr", *(f"nobody{n}@nowhere.fr" for n in range(6000)), "last@acme.fr", "old@acme.fr"]
    with store.read() as s:
        hits = repo.lookup_addresses(s, wanted)
        domains = repo.lookup_domains(s, [f"d{n}.fr" for n in range(6000)] + ["acme.fr"])
    assert {a: (h.contact_id, h.is_primary, h.company_id) for a, h in hits.items()} == {
        "first@acme.fr": (people[0].id, True, company.id), "last@acme.fr": (people[1].id, True, company.id)}
    assert domains == {"acme.fr": company.id}
