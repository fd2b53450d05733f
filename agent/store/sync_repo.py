"""Persistence of the sync side: accounts, targets, pending refs, listings and deletions by location."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from agent.records import ChangeSet, TargetRef
from agent.store.models import Account, Interaction, PendingRef, Sighting, SkippedItem, SyncTarget
from agent.store.sql import bulk_insert, chunks


def ensure_account(session: Session, name: str, kind: str, config_hash: str, now: datetime) -> tuple[Account, bool]:
    """The account row for ``name``; the bool says whether its configuration changed since last time."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        account = Account(name=name, kind=kind, config_hash=config_hash, created_at=now, details={})
        session.add(account)
        session.flush()
        return account, False
    changed = account.config_hash != config_hash
    account.config_hash = config_hash
    account.kind = kind
    return account, changed


def ensure_targets(session: Session, account: Account, refs: Sequence[TargetRef], now: datetime) -> list[SyncTarget]:
    """Rows for the discovered targets, created in PENDING_FULL when new (their display and role refreshed)."""
    existing = {t.name: t for t in session.scalars(select(SyncTarget).where(SyncTarget.account_id == account.id))}
    out = []
    for ref in refs:
        target = existing.get(ref.name)
        if target is None:
            target = SyncTarget(
                account_id=account.id, name=ref.name, kind=ref.kind, role=ref.role, display=ref.display,
                stage_changed_at=now,
            )
            session.add(target)
        else:
            target.kind, target.role, target.display = ref.kind, ref.role, ref.display
        out.append(target)
    session.flush()
    return out


def target_ref(target: SyncTarget, account_name: str) -> TargetRef:
    return TargetRef(account=account_name, name=target.name, kind=target.kind, role=target.role, display=target.display)


def store_listing_page(session: Session, target: SyncTarget, changes: ChangeSet, *, full: bool) -> tuple[int, int]:
    """Write one page: new pending refs and deletions (the caller advances the cursor in the same transaction).

    Refs whose location is already stored with the same version are not queued again; during a full listing
    they are stamped with the listing generation, so the final reconcile knows they still exist.
    Returns (queued, deleted).
    """
    generation = target.listing_generation
    by_location = {ref.location: ref for ref in changes.upserts}
    known: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for part in chunks(list(by_location), 500):
        known.update(session.execute(select(Sighting.item_location, Sighting.version).where(Sighting.item_location.in_(part))).all())
        skipped.update(session.execute(select(SkippedItem.location, SkippedItem.version).where(SkippedItem.location.in_(part))).all())
    still_skipped = [loc for loc, ref in by_location.items() if loc in skipped and skipped[loc] == ref.version]
    listed_known = [loc for loc in by_location if loc in known]  # changed ones too: they still exist
    if full and listed_known:
        for part in chunks(listed_known, 500):
            session.execute(update(Sighting).where(Sighting.item_location.in_(part)).values(generation=generation))
    if full and still_skipped:
        for part in chunks(still_skipped, 500):
            session.execute(update(SkippedItem).where(SkippedItem.location.in_(part)).values(generation=generation))
    rows = [
        {"target_id": target.id, "location": ref.location, "key": ref.key, "version": ref.version, "generation": generation}
        for loc, ref in by_location.items()
        if not (loc in known and known[loc] == ref.version) and not (loc in skipped and skipped[loc] == ref.version)
    ]
    if rows:
        bulk_insert(session, PendingRef, rows, conflict=["target_id", "location"], update=["generation"])
    deleted = delete_locations(session, target, changes.deletes, now=None) if changes.deletes else 0
    return len(rows), deleted


def reconcile_full_listing(session: Session, target: SyncTarget, now: datetime, *, empty_guard: int) -> int:
    """After the last page of a full listing: what was not listed is gone. Returns how many locations were removed.

    Raises RemoteUnexpectedlyEmpty instead when nothing at all was listed for a target that held many items.
    """
    from agent.errors import RemoteUnexpectedlyEmpty

    generation = target.listing_generation
    listed = session.scalar(select(func.count()).select_from(PendingRef).where(PendingRef.target_id == target.id, PendingRef.generation == generation))
    listed += session.scalar(select(func.count()).select_from(Sighting).where(Sighting.target_id == target.id, Sighting.generation == generation))
    held = session.scalar(select(func.count(func.distinct(Sighting.item_location))).where(Sighting.target_id == target.id))
    if listed == 0 and held >= max(empty_guard, 1):
        raise RemoteUnexpectedlyEmpty(
            f"remote unexpectedly empty: {target.name} listed 0 items but {held} are stored; nothing deleted"
        )
    stale = session.scalars(
        select(Sighting.item_location).where(Sighting.target_id == target.id, Sighting.generation < generation).distinct()
    ).all()
    removed = delete_locations(session, target, stale, now=now) if stale else 0
    session.execute(delete(PendingRef).where(PendingRef.target_id == target.id, PendingRef.generation < generation))
    session.execute(delete(SkippedItem).where(SkippedItem.target_id == target.id, SkippedItem.generation < generation))
    return removed


def delete_locations(session: Session, target: SyncTarget, locations: Iterable[str], *, now: datetime | None) -> int:
    """Delete by location: sightings, pending refs and skip records. An interaction left with no sighting stays on
    the timeline as history, marked ``removed_at``. Returns the number of sightings removed."""
    locations = list(locations)
    removed = 0
    touched: set[int] = set()
    for part in chunks(locations, 500):
        touched.update(session.scalars(select(Sighting.interaction_id).where(Sighting.item_location.in_(part))))
        removed += session.execute(delete(Sighting).where(Sighting.item_location.in_(part))).rowcount or 0
        session.execute(delete(PendingRef).where(PendingRef.target_id == target.id, PendingRef.location.in_(part)))
        session.execute(delete(SkippedItem).where(SkippedItem.location.in_(part)))
    if touched:
        mark_orphans_removed(session, touched, now or _now())
    target.known_items = max(0, target.known_items - removed)
    return removed


def mark_orphans_removed(session: Session, interaction_ids: Iterable[int], now: datetime) -> None:
    ids = list(interaction_ids)
    for part in chunks(ids, 500):
        still_seen = set(session.scalars(select(Sighting.interaction_id).where(Sighting.interaction_id.in_(part)).distinct()))
        gone = [i for i in part if i not in still_seen]
        if gone:
            session.execute(update(Interaction).where(Interaction.id.in_(gone), Interaction.removed_at.is_(None)).values(removed_at=now))


def pending_after(session: Session, target_id: int, after: int, limit: int) -> list[PendingRef]:
    """The next ``limit`` pending refs of a target, in listing order, after the pending id ``after``."""
    return list(session.scalars(select(PendingRef).where(PendingRef.target_id == target_id, PendingRef.id > after)
                                .order_by(PendingRef.id).limit(limit)))


def count_pending(session: Session, target_id: int) -> int:
    return session.scalar(select(func.count()).select_from(PendingRef).where(PendingRef.target_id == target_id)) or 0


def drop_pending(session: Session, ids: Sequence[int]) -> None:
    for part in chunks(list(ids), 500):
        session.execute(delete(PendingRef).where(PendingRef.id.in_(part)))


def _now() -> datetime:
    from agent.clock import SystemClock

    return SystemClock().now()
