"""Idempotent writes of interactions, sightings and participants, keyed by identity; and batch lookups for matching.

Everything here runs inside the caller's unit of work: writing the same batch twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from agent.matching.domains import registrable_domain
from agent.records import InteractionDraft
from agent.store.models import Interaction, Participant, Sighting, SkippedItem
from agent.store.models_crm import CompanyDomain, Contact, ContactAddress
from agent.store.sql import bulk_insert, chunks, dialect_insert, lookup_slice, one_of


@dataclass(frozen=True, slots=True)
class Sighted:
    """A draft and where it was seen."""

    location: str  # the sighting's own location (item location, or item#occurrence for a series)
    item_location: str
    version: str
    draft: InteractionDraft


@dataclass(frozen=True, slots=True)
class Written:
    interaction_id: int
    created: bool  # inserted by this call
    changed: bool  # an existing interaction whose content changed (meeting edited, invitation update)


def _row(draft: InteractionDraft, now: datetime) -> dict:
    return {
        "identity_key": draft.identity_key,
        "kind": draft.kind,
        "occurred_at": draft.occurred_at,
        "ends_at": draft.ends_at,
        "subject": draft.subject,
        "snippet": draft.snippet,
        "body": draft.body,
        "direction": draft.direction.value,
        "thread_key": draft.thread_key,
        "message_id": draft.message_id,
        "content_hash": draft.content_hash,
        "status": draft.status,
        "details": draft.details,
        "first_seen_at": now,
        "updated_at": now,
    }


def _participant_rows(interaction_id: int, draft: InteractionDraft) -> list[dict]:
    seen: set[tuple[str, str]] = set()
    rows = []
    for p in draft.participants:
        if (p.address, p.role.value) in seen:
            continue
        seen.add((p.address, p.role.value))
        rows.append({
            "interaction_id": interaction_id, "address": p.address, "domain": _domain(p.address),
            "name": p.name[:256], "role": p.role.value,
            "is_internal": p.is_internal, "contact_id": p.contact_id,
            "contact_reason": p.contact_reason.value if p.contact_reason else None,
            "company_id": p.company_id, "company_reason": p.company_reason.value if p.company_reason else None,
            "partstat": p.partstat,
        })
    return rows


@lru_cache(maxsize=65536)
def _domain(address: str) -> str:
    return registrable_domain(address.rpartition("@")[2]) or ""


def existing_by_key(session: Session, keys: Iterable[str]) -> dict[str, tuple[int, str, str]]:
    """identity key -> (id, content_hash, kind) for those already stored."""
    found: dict[str, tuple[int, str, str]] = {}
    keys = list(keys)
    for part in chunks(keys, 500):
        stmt = select(Interaction.identity_key, Interaction.id, Interaction.content_hash, Interaction.kind).where(
            Interaction.identity_key.in_(part)
        )
        for key, ident, content_hash, kind in session.execute(stmt):
            found[key] = (ident, content_hash, kind)
    return found


def upsert_interactions(session: Session, target_id: int, generation: int, sighted: Sequence[Sighted], now: datetime) -> list[Written]:
    """Write each draft once under its identity key and record where it was seen. Returns one Written per input."""
    existing = existing_by_key(session, {s.draft.identity_key for s in sighted})
    rekeyed = _separate_reused_message_ids(existing, sighted)
    if rekeyed:
        existing.update(existing_by_key(session, rekeyed))
    new_rows: dict[str, dict] = {}
    for s in sighted:
        if s.draft.identity_key not in existing and s.draft.identity_key not in new_rows:
            new_rows[s.draft.identity_key] = _row(s.draft, now)
    if new_rows:
        bulk_insert(session, Interaction, list(new_rows.values()), conflict=["identity_key"])
    ids = {key: value[0] for key, value in existing.items()}
    if new_rows:
        ids.update((key, value[0]) for key, value in existing_by_key(session, new_rows).items())
    created_keys = {key for key in new_rows if key in ids}
    # A concurrent worker may have inserted some of new_rows first: its participants are its own, so ours are
    # inserted with ON CONFLICT DO NOTHING and the outcome is the same either way.
    participant_rows: list[dict] = []
    written: list[Written] = []
    done: set[str] = set()
    for s in sighted:
        key = s.draft.identity_key
        interaction_id = ids[key]
        created = key in created_keys and key not in done
        changed = False
        if key not in done:
            if created:
                participant_rows.extend(_participant_rows(interaction_id, s.draft))
            elif key in existing and s.draft.kind == "meeting" and existing[key][1] != s.draft.content_hash:
                _refresh(session, interaction_id, s.draft, now)
                participant_rows.extend(_participant_rows(interaction_id, s.draft))
                changed = True
            done.add(key)
        written.append(Written(interaction_id, created, changed))
    if participant_rows:
        bulk_insert(session, Participant, participant_rows, conflict=["interaction_id", "address", "role"])
    _record_sightings(session, target_id, generation, sighted, [w.interaction_id for w in written], now)
    return written


def _separate_reused_message_ids(existing: dict[str, tuple[int, str, str]], sighted: Sequence[Sighted]) -> set[str]:
    """A Message-ID reused by a different message (other sender or date) must not swallow it: the newcomer gets
    its own identity, ``mid:<id>#<fingerprint>``, flagged so `explain` can show it. Returns the new keys."""
    first: dict[str, str] = {}
    rekeyed: set[str] = set()
    for s in sighted:
        draft = s.draft
        if draft.kind != "email" or not draft.message_id or not draft.content_hash:
            continue
        key = draft.identity_key
        known = existing[key][1] if key in existing else first.setdefault(key, draft.content_hash)
        if known and known != draft.content_hash:
            draft.identity_key = f"{key}#{draft.content_hash[:16]}"
            draft.details["message_id_conflict"] = True
            rekeyed.add(draft.identity_key)
    return rekeyed


def _refresh(session: Session, interaction_id: int, draft: InteractionDraft, now: datetime) -> None:
    """An edited meeting: content updated in place, attendees re-evaluated (manual links survive the refresh)."""
    manual = {
        (address, role): (contact_id, company_id)
        for address, role, contact_id, company_id in session.execute(
            select(Participant.address, Participant.role, Participant.contact_id, Participant.company_id).where(
                Participant.interaction_id == interaction_id, Participant.contact_reason == "manual"
            )
        )
    }
    row = _row(draft, now)
    for key in ("identity_key", "first_seen_at"):
        row.pop(key)
    session.execute(update(Interaction).where(Interaction.id == interaction_id).values(removed_at=None, **row))
    session.execute(delete(Participant).where(Participant.interaction_id == interaction_id))
    from agent.records import MatchReason

    for p in draft.participants:
        if (p.address, p.role.value) in manual:
            p.contact_id, p.company_id = manual[(p.address, p.role.value)]
            p.contact_reason = MatchReason.MANUAL


def _record_sightings(session: Session, target_id: int, generation: int, sighted: Sequence[Sighted], ids: Sequence[int], now: datetime) -> None:
    rows = {}
    for s, interaction_id in zip(sighted, ids, strict=True):
        rows[s.location] = {
            "interaction_id": interaction_id, "target_id": target_id, "location": s.location,
            "item_location": s.item_location, "version": s.version, "seen_at": now, "generation": generation,
        }
    if not rows:
        return
    bulk_insert(session, Sighting, list(rows.values()), conflict=["location"],
                update=["interaction_id", "version", "generation", "item_location"])
    revived = list({r["interaction_id"] for r in rows.values()})
    for part in chunks(revived, 500):
        session.execute(update(Interaction).where(Interaction.id.in_(part), Interaction.removed_at.is_not(None)).values(removed_at=None))


def drop_stale_occurrences(session: Session, item_location: str, keep_locations: set[str], now: datetime) -> list[int]:
    """A re-imported calendar object no longer yields some occurrences: remove those sightings. Returns the
    interactions that lost them."""
    stale = session.execute(
        select(Sighting.id, Sighting.interaction_id, Sighting.location).where(Sighting.item_location == item_location)
    ).all()
    gone = [(sid, iid) for sid, iid, loc in stale if loc not in keep_locations]
    for part in chunks([sid for sid, _ in gone], 500):
        session.execute(delete(Sighting).where(Sighting.id.in_(part)))
    return [iid for _, iid in gone]


def record_skips(session: Session, target_id: int, generation: int, rows: Sequence[dict], now: datetime) -> None:
    """rows: location, version, stage, reason, detail, message_id, subject."""
    if not rows:
        return
    payload = [{**r, "target_id": target_id, "generation": generation, "skipped_at": now} for r in rows]
    stmt = dialect_insert(session, SkippedItem)
    stmt = stmt.on_conflict_do_update(
        index_elements=["location"],
        set_={k: getattr(stmt.excluded, k) for k in ("version", "stage", "reason", "detail", "message_id", "subject", "generation", "skipped_at")},
    )
    session.execute(stmt, payload)


# ------------------------------------------------------------------------------------------- matching lookups


@dataclass(frozen=True, slots=True)
class AddressHit:
    contact_id: int
    is_primary: bool
    company_id: int | None


def lookup_addresses(session: Session, addresses: Iterable[str]) -> dict[str, AddressHit]:
    """Live contacts owning these addresses, with their company: one indexed join per slice of addresses."""
    found: dict[str, AddressHit] = {}
    addresses = list(addresses)
    for part in chunks(addresses, lookup_slice(session)):
        found.update((address, AddressHit(contact_id, is_primary, company_id))
                     for address, contact_id, is_primary, company_id in session.execute(
            select(ContactAddress.address, ContactAddress.contact_id, ContactAddress.is_primary, Contact.company_id)
            .join(Contact, Contact.id == ContactAddress.contact_id)
            .where(one_of(session, ContactAddress.address, part), Contact.merged_into_id.is_(None))
        ))
    return found


def lookup_domains(session: Session, domains: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    domains = list(domains)
    for part in chunks(domains, lookup_slice(session)):
        found.update(session.execute(select(CompanyDomain.domain, CompanyDomain.company_id).where(one_of(session, CompanyDomain.domain, part))).all())
    return found
