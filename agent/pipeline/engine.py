"""The sync engine for one account: list (pending refs + cursor, one transaction per page), then import batches.

Two durable steps per target, so a crash anywhere only re-runs a batch and re-running a batch changes nothing:

1. *List*: ``connector.list_changes`` → in one transaction, the pending refs, the deletions and the next cursor.
2. *Import*: up to ``batch_size`` pending refs → fetch → stages → in one transaction, interactions, sightings,
   participants, timers, skip records, and the removal of those pending refs.

Errors are classified into sync-state transitions here, per target.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from agent.clock import Clock
from agent.connectors.base import Connector
from agent.errors import AuthError, CursorInvalid, RemoteUnexpectedlyEmpty, TemporaryError, UserError
from agent.pipeline import sync_state
from agent.pipeline.context import BatchReport
from agent.pipeline.run import PipelineContext, run_batch
from agent.records import ItemRef
from agent.store import sync_repo
from agent.store.db import Store
from agent.store.models import SyncTarget

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (target label, done, total)


@dataclass
class TargetReport:
    account: str
    target: str
    status: str = ""
    listed: int = 0
    deleted: int = 0
    full: bool = False
    error: str = ""
    counts: BatchReport = field(default_factory=BatchReport)

    def as_dict(self) -> dict:
        return {"account": self.account, "target": self.target, "status": self.status, "listed": self.listed,
                "deleted": self.deleted, "full": self.full, "error": self.error, **self.counts.as_dict()}


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class Stopped(Exception):
    """The stop event was set between two batches."""


class TargetSync:
    """Syncs the targets of one account through one connector (one thread, one connector)."""

    def __init__(
        self,
        store: Store,
        connector: Connector,
        make_context: Callable[[Session, SyncTarget], PipelineContext],
        clock: Clock,
        *,
        batch_size: int = 500,
        list_page: int = 5000,
        empty_guard: int = 20,
        backoff_cap=None,
        stop: threading.Event | None = None,
        progress: Progress | None = None,
        dry_run: bool = False,
    ) -> None:
        self.store = store
        self.connector = connector
        self.make_context = make_context
        self.clock = clock
        self.batch_size = batch_size
        self.list_page = list_page
        self.empty_guard = empty_guard
        self.backoff_cap = backoff_cap
        self.stop = stop or threading.Event()
        self.progress = progress
        self.dry_run = dry_run
        self._dry_session: Session | None = None

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _unit(self) -> Iterator[Session]:
        if not self.dry_run:
            with self.store.unit_of_work() as session:
                yield session
            return
        if self._dry_session is None:
            self._dry_session = self.store._sessions()  # one transaction for the whole dry run, rolled back
        yield self._dry_session
        self._dry_session.flush()

    def finish(self) -> None:
        if self._dry_session is not None:
            self._dry_session.rollback()
            self._dry_session.close()
            self._dry_session = None

    # ------------------------------------------------------------------ one target

    def sync(self, target_id: int, account_name: str) -> TargetReport:
        """One pass over one target; every failure becomes a state transition, never an exception (but UserError)."""
        with self._unit() as session:
            target = session.get(SyncTarget, target_id)
            report = TargetReport(account_name, target.display or target.name)
        for attempt in range(2):  # a rejected cursor is retried once, as a full listing
            try:
                self._list_then_import(target_id, account_name, report)
                break
            except CursorInvalid as exc:
                self._transition(target_id, lambda t, now: sync_state.cursor_rejected(t, now, exc.message))
                log.warning("%s/%s: cursor rejected (%s): full resync", account_name, report.target, exc.message)
                if attempt == 1:
                    report.error = exc.message
            except Stopped:
                self._transition(target_id, sync_state.interrupted)
                report.error = "interrupted"
                break
            except AuthError as exc:
                message = exc.message + (f" — {exc.fix}" if exc.fix else "")
                self._transition(target_id, lambda t, now: sync_state.auth_failed(t, now, message))
                report.error = message
                break
            except RemoteUnexpectedlyEmpty as exc:
                self._transition(target_id, lambda t, now: sync_state.refused_empty(t, now, exc.message, cap=self.backoff_cap))
                report.error = exc.message
                break
            except TemporaryError as exc:
                self._transition(
                    target_id,
                    lambda t, now: sync_state.temporary_failure(t, now, exc.message, retry_after=exc.retry_after, cap=self.backoff_cap),
                )
                report.error = exc.message
                break
            except UserError:
                raise
            except Exception as exc:  # a bug: record it, keep the daemon alive, back off
                log.exception("%s/%s: unexpected error", account_name, report.target)
                message = f"internal error: {type(exc).__name__}: {exc}"
                self._transition(
                    target_id, lambda t, now: sync_state.temporary_failure(t, now, message, retry_after=None, cap=self.backoff_cap)
                )
                report.error = message
                break
        with self._unit() as session:
            report.status = session.get(SyncTarget, target_id).status
        return report

    def _transition(self, target_id: int, change: Callable[[SyncTarget, datetime], object]) -> None:
        if self.dry_run and self._dry_session is not None:
            self._dry_session.rollback()
        with self._unit() as session:
            change(session.get(SyncTarget, target_id), self.clock.now())

    def _list_then_import(self, target_id: int, account_name: str, report: TargetReport) -> None:
        with self._unit() as session:
            target = session.get(SyncTarget, target_id)
            report.full = sync_state.begin_sync(target, self.clock.now())
            ref = sync_repo.target_ref(target, account_name)
        self._list(target_id, ref, report)
        self._import(target_id, ref, report)
        with self._unit() as session:
            sync_state.import_complete(session.get(SyncTarget, target_id), self.clock.now())

    def _list(self, target_id: int, ref, report: TargetReport) -> None:
        while True:
            self._check_stop()
            with self._unit() as session:
                cursor = session.get(SyncTarget, target_id).cursor
            changes = self.connector.list_changes(ref, cursor, limit=self.list_page)
            with self._unit() as session:
                target = session.get(SyncTarget, target_id)
                full = target.full_listing or changes.is_full
                if changes.is_full and not target.full_listing:  # the connector decided to enumerate everything
                    target.full_listing = True
                    target.listing_generation += 1
                    report.full = True
                queued, deleted = sync_repo.store_listing_page(session, target, changes, full=full)
                sync_state.listing_page_stored(target, changes.next_cursor)
                report.listed += queued
                report.deleted += deleted
                if not changes.more:
                    if full:
                        report.deleted += sync_repo.reconcile_full_listing(session, target, self.clock.now(), empty_guard=self.empty_guard)
                    sync_state.listing_complete(target, self.clock.now())
                    return

    def _import(self, target_id: int, ref, report: TargetReport) -> None:
        with self._unit() as session:
            total = sync_repo.count_pending(session, target_id)
        if self.progress and total:
            self.progress(report.target, 0, total)
        batches = self._batches_in_order(target_id, ref) if self.dry_run else self._batches_prefetched(target_id, ref)
        done = 0
        try:
            for pending_ids, raws in batches:
                self._check_stop()
                with self._unit() as session:
                    target = session.get(SyncTarget, target_id)
                    batch = run_batch(raws, self.make_context(session, target), self.clock.now())
                    sync_repo.drop_pending(session, pending_ids)
                report.counts.add(batch.report)
                done += len(pending_ids)
                if self.progress:
                    self.progress(report.target, min(done, total), max(total, done))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    def _pending_after(self, session: Session, target_id: int, after: int) -> list[tuple[int, ItemRef]]:
        rows = sync_repo.pending_after(session, target_id, after, self.batch_size)
        return [(r.id, ItemRef(r.location, r.key, r.version)) for r in rows]

    def _batches_in_order(self, target_id: int, ref) -> Iterator[tuple[list[int], list]]:
        """Fetch, then process, one batch at a time (dry runs: the pending refs live in the open transaction)."""
        after = 0
        while True:
            with self._unit() as session:
                pending = self._pending_after(session, target_id, after)
            if not pending:
                return
            after = pending[-1][0]
            yield [pid for pid, _ in pending], list(self.connector.fetch(ref, [r for _, r in pending]))

    def _batches_prefetched(self, target_id: int, ref) -> Iterator[tuple[list[int], list]]:
        """The next batch is fetched (network, server) while this one is parsed and written: one fetching thread
        owns the connector meanwhile; at most two fetched batches wait in memory."""
        ready: queue.Queue = queue.Queue(maxsize=1)
        halt = threading.Event()

        def produce() -> None:
            after = 0
            try:
                while not halt.is_set():
                    with self.store.read() as session:
                        pending = self._pending_after(session, target_id, after)
                    if not pending:
                        break
                    after = pending[-1][0]
                    raws = list(self.connector.fetch(ref, [r for _, r in pending]))
                    while not halt.is_set():
                        try:
                            ready.put(([pid for pid, _ in pending], raws), timeout=0.2)
                            break
                        except queue.Full:
                            continue
            except BaseException as exc:  # handed to the importing thread, which classifies it
                ready.put(_Failed(exc))
                return
            ready.put(None)

        fetcher = threading.Thread(target=produce, name="prefetch", daemon=True)
        fetcher.start()
        try:
            while True:
                item = ready.get()
                if item is None:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            halt.set()
            while fetcher.is_alive():  # unblock a producer waiting on a full queue, then let it finish its fetch
                try:
                    ready.get(timeout=0.1)
                except queue.Empty:
                    pass
            fetcher.join()

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped()
