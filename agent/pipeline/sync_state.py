"""Every sync-state transition of a target, as a named function; nothing else assigns ``stage`` or ``status``.

Stages (what the engine does next)::

    PENDING_FULL ──begin_sync──▶ LISTING ──listing_complete──▶ IMPORTING ──import_complete──▶ ACTIVE
         ▲                          │  (pages: listing_page_stored)                              │
         └──cursor_rejected─────────┘                                         mark_due ◀─────────┘
                                                                                  │
                                              PENDING_INCREMENTAL ◀───────────────┘ ──begin_sync──▶ LISTING …

Statuses (what a person sees): NOT_SYNCED, ONGOING, ACTIVE, FAILED_AUTH, FAILED.

Failures keep the work already stored: a temporary failure backs off (60 s × 2^(n-1), capped, Retry-After
honoured) and resumes from the stored cursor and pending refs; an auth failure waits for a config change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.store.models import SyncTarget

PENDING_FULL = "PENDING_FULL"
LISTING = "LISTING"
IMPORTING = "IMPORTING"
ACTIVE = "ACTIVE"
PENDING_INCREMENTAL = "PENDING_INCREMENTAL"
STAGES = (PENDING_FULL, LISTING, IMPORTING, ACTIVE, PENDING_INCREMENTAL)
BUSY_STAGES = (LISTING, IMPORTING)

NOT_SYNCED = "NOT_SYNCED"
ONGOING = "ONGOING"
STATUS_ACTIVE = "ACTIVE"
FAILED_AUTH = "FAILED_AUTH"
FAILED = "FAILED"

BASE_BACKOFF = timedelta(seconds=60)


def _set_stage(target: SyncTarget, stage: str, now: datetime) -> None:
    if target.stage != stage:
        target.stage = stage
        target.stage_changed_at = now


def begin_sync(target: SyncTarget, now: datetime) -> bool:
    """Start a pass. Returns True when this pass is (or continues) a full enumeration of the target."""
    if not target.cursor and not target.full_listing:
        target.full_listing = True
        target.listing_generation += 1
    _set_stage(target, LISTING, now)
    target.status = ONGOING
    target.last_attempt_at = now
    return target.full_listing


def listing_page_stored(target: SyncTarget, next_cursor: str) -> None:
    """A page of changes and its cursor were stored together; the next page continues from here."""
    target.cursor = next_cursor


def listing_complete(target: SyncTarget, now: datetime) -> None:
    target.full_listing = False
    _set_stage(target, IMPORTING, now)


def import_complete(target: SyncTarget, now: datetime) -> None:
    """Nothing pending any more: the target is up to date."""
    _set_stage(target, ACTIVE, now)
    target.status = STATUS_ACTIVE
    target.last_success_at = now
    target.failures = 0
    target.last_error = ""
    target.error_kind = ""
    target.next_attempt_at = None


def mark_due(target: SyncTarget, now: datetime) -> None:
    """Something may have changed (push, probe, poll timer): sync this target at the next occasion."""
    if target.stage == ACTIVE:
        _set_stage(target, PENDING_INCREMENTAL, now)


def cursor_rejected(target: SyncTarget, now: datetime, reason: str) -> None:
    """The server refused the cursor: enumerate everything again (writes are idempotent, so no duplicates)."""
    target.cursor = ""
    target.full_listing = False
    target.last_error = f"full resync: {reason}"
    _set_stage(target, PENDING_FULL, now)


def temporary_failure(
    target: SyncTarget, now: datetime, message: str, *, retry_after: float | None, cap: timedelta
) -> datetime:
    """Back off and resume later from what is stored. Returns the time of the next attempt."""
    target.failures += 1
    delay = min(BASE_BACKOFF * (2 ** (target.failures - 1)), cap)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    target.next_attempt_at = now + delay
    target.status = FAILED
    target.error_kind = "temporary"
    target.last_error = message
    _set_stage(target, PENDING_FULL if not target.cursor and not target.full_listing else PENDING_INCREMENTAL, now)
    return target.next_attempt_at


def auth_failed(target: SyncTarget, now: datetime, message: str) -> None:
    """Credentials refused: no retry until the account's configuration changes."""
    target.status = FAILED_AUTH
    target.error_kind = "auth"
    target.last_error = message
    target.next_attempt_at = None
    _set_stage(target, PENDING_FULL if not target.cursor and not target.full_listing else PENDING_INCREMENTAL, now)


def refused_empty(target: SyncTarget, now: datetime, message: str, *, cap: timedelta) -> None:
    """A full listing came back empty for a target that held items: delete nothing, fail loudly, retry later."""
    temporary_failure(target, now, message, retry_after=None, cap=cap)
    target.error_kind = "empty"
    target.full_listing = False


def config_changed(target: SyncTarget, now: datetime) -> None:
    """The account's settings changed: give a failed target a fresh start."""
    if target.status in (FAILED_AUTH, FAILED):
        target.failures = 0
        target.next_attempt_at = None
        target.status = NOT_SYNCED if target.last_success_at is None else STATUS_ACTIVE
        if target.stage == ACTIVE:
            _set_stage(target, PENDING_INCREMENTAL, now)


def reset_stale(target: SyncTarget, now: datetime, limit: timedelta) -> bool:
    """At start-up: a stage left busy by a process that died is made resumable. True if it was reset."""
    if target.stage in BUSY_STAGES and (target.stage_changed_at is None or now - target.stage_changed_at > limit):
        _set_stage(target, PENDING_FULL if not target.cursor and not target.full_listing else PENDING_INCREMENTAL, now)
        if target.status == ONGOING:
            target.status = NOT_SYNCED if target.last_success_at is None else STATUS_ACTIVE
        return True
    return False


def interrupted(target: SyncTarget, now: datetime) -> None:
    """Stopped on request (SIGTERM, Ctrl-C) between batches: resumable, not an error."""
    _set_stage(target, PENDING_FULL if not target.cursor and not target.full_listing else PENDING_INCREMENTAL, now)
    target.status = NOT_SYNCED if target.last_success_at is None else STATUS_ACTIVE


def is_due(target: SyncTarget, now: datetime) -> bool:
    """Should the engine sync this target now?"""
    if target.status == FAILED_AUTH:
        return False
    if target.next_attempt_at is not None and target.next_attempt_at > now:
        return False
    return target.stage != ACTIVE
