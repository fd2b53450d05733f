"""The daemon's threads: one loop per account (sync, then IDLE or sleep), and periodic jobs (timers, events)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from agent.connectors import make_connector
from agent.errors import AgentError, UserError
from agent.pipeline import sync_state
from agent.pipeline.account_sync import sync_account
from agent.records import TargetRef
from agent.store.models import Account, SyncTarget

log = logging.getLogger("agent.daemon")


class AccountWorker(threading.Thread):
    """Syncs one account forever: a pass over its due targets, then wait for push (IMAP IDLE) or the poll interval.

    Blocking client libraries run here, one connector per thread. ``stop`` ends the loop between two batches;
    ``wake`` (config reload, tests) starts a pass at once.
    """

    def __init__(self, service, account, stop: threading.Event, *, owner: str, shared_store: bool) -> None:
        super().__init__(name=f"account:{account.name}", daemon=True)
        self.service = service
        self.account = account
        self.stop = stop
        self.wake = threading.Event()
        self.owner = owner
        self.shared_store = shared_store
        self.connector = None
        self.passes = 0
        self.blocked = False
        self.last_error = ""

    # ---------------------------------------------------------------- loop

    def run(self) -> None:
        settings = self.service.settings
        while not self.stop.is_set():
            if self.shared_store and not self._lease():
                self._sleep(settings.sync.poll_interval.total_seconds() / 2)
                continue
            try:
                self._pass()
                self.last_error = ""
            except UserError as exc:  # e.g. a configured folder vanished: wait for a config change
                self.last_error = exc.message
                log.error("account %s: %s", self.account.name, exc.message)
                self._close()
                self._sleep(settings.sync.poll_interval.total_seconds())
                continue
            except AgentError as exc:
                self.last_error = exc.message
                log.warning("account %s: %s", self.account.name, exc.message)
                self._close()
            except Exception:  # a bug must not kill the daemon: log it, back off, go on
                log.exception("account %s: unexpected error", self.account.name)
                self._close()
                self._sleep(60)
                continue
            self.passes += 1
            self._wait()
        self._close()
        if self.shared_store:
            from agent.daemon import leases

            leases.release(self.service.store, self.account.name, self.owner)

    def auth_blocked(self) -> bool:
        """Credentials were refused and the account's settings have not changed since: do not even connect."""
        from agent.pipeline.account_sync import config_hash

        with self.service.store.read() as session:
            row = session.scalar(select(Account).where(Account.name == self.account.name))
            if row is None or row.config_hash != config_hash(self.account):
                return False
            statuses = set(session.scalars(select(SyncTarget.status).where(SyncTarget.account_id == row.id)))
            return (row.details or {}).get("error_kind") == "auth" or (bool(statuses) and statuses == {sync_state.FAILED_AUTH})

    def _pass(self) -> None:
        service = self.service
        if self.auth_blocked():
            self.blocked = True
            return
        self.blocked = False
        if self.connector is None:
            token_store = _token_store(service, self.account)
            self.connector = make_connector(self.account, stop=self.stop, token_store=token_store)
        self._mark_due()
        reports = sync_account(
            service.store, service.settings, self.account, service.clock, stop=self.stop, connector=self.connector,
            rules=service.rules_hook(), calendar=service.calendar_hook(self.account), only_due=True,
        )
        self.blocked = self.auth_blocked()
        if self.blocked:
            self._close()
        for report in reports:
            if report.counts.created or report.deleted or report.error:
                log.info("account %s/%s: %d new, %d already stored, %d skipped, %d deleted%s", self.account.name,
                         report.target, report.counts.created, report.counts.duplicates,
                         sum(report.counts.skipped.values()), report.deleted,
                         f" — {report.status}: {report.error}" if report.error else "")

    def _mark_due(self) -> None:
        """Woken by push, poll or reload: every active target of the account gets a pass (backoffs still hold)."""
        now = self.service.clock.now()
        with self.service.store.unit_of_work() as session:
            account_id = session.scalar(select(Account.id).where(Account.name == self.account.name))
            if account_id is None:
                return
            for target in session.scalars(select(SyncTarget).where(SyncTarget.account_id == account_id)):
                sync_state.mark_due(target, now)

    # ---------------------------------------------------------------- waiting

    def next_delay(self) -> float:
        """Seconds until the next pass: the poll interval, or sooner when a backoff ends sooner."""
        settings = self.service.settings
        delay = settings.sync.poll_interval.total_seconds()
        now = self.service.clock.now()
        with self.service.store.read() as session:
            account_id = session.scalar(select(Account.id).where(Account.name == self.account.name))
            for target in session.scalars(select(SyncTarget).where(SyncTarget.account_id == account_id)):
                if target.next_attempt_at is not None and target.status != sync_state.FAILED_AUTH:
                    delay = min(delay, max(1.0, (target.next_attempt_at - now).total_seconds()))
        return delay

    def _wait(self) -> None:
        delay = self.next_delay()
        if self._can_idle():
            try:
                inbox = TargetRef(self.account.name, "INBOX", "mail", "inbox")
                remaining = delay
                # IDLE is renewed at least every idle_renew (servers drop it after 29 minutes)
                renew = self.service.settings.sync.idle_renew.total_seconds()
                while remaining > 0 and not self.stop.is_set() and not self.wake.is_set():
                    chunk = min(renew, remaining)
                    if self.connector.wait_for_change(inbox, chunk):
                        log.debug("account %s: IDLE reported a change", self.account.name)
                        return
                    remaining -= chunk
                self.wake.clear()
                return
            except AgentError as exc:  # connection lost, or credentials refused on the IDLE connection
                where = f"account {self.account.name}"  # connectors name the account themselves; say it once
                log.warning("%s", exc.message if exc.message.startswith(where) else f"{where}: IDLE: {exc.message}")
                self._close()
                delay = min(delay, 5)  # reconnect soon; if the server stays away, the pass records a back-off
        self._sleep(delay)

    def _can_idle(self) -> bool:
        return (self.account.kind == "imap" and getattr(self.account, "idle", False) and self.connector is not None
                and not self.blocked and not self.last_error)

    def _sleep(self, seconds: float) -> None:
        deadline = self.service.clock.now() + timedelta(seconds=seconds)
        while not self.stop.is_set() and not self.wake.is_set():
            left = (deadline - self.service.clock.now()).total_seconds()
            if left <= 0:
                break
            self.stop.wait(min(left, 1.0))
        self.wake.clear()

    def _lease(self) -> bool:
        from agent.daemon import leases

        ttl = max(self.service.settings.sync.poll_interval * 3, timedelta(minutes=5))
        return leases.acquire(self.service.store, self.account.name, self.owner, self.service.clock.now(), ttl)

    def _close(self) -> None:
        if self.connector is not None:
            try:
                self.connector.close()
            except Exception:  # closing a broken connection may fail again; nothing to do about it
                pass
        self.connector = None


def _token_store(service, account):
    if getattr(account, "auth", None) == "oauth2" or account.kind in ("m365", "ews"):
        auth = service.feature("auth")
        return getattr(auth, "store", None) if auth is not None else None
    return None


class PeriodicJob(threading.Thread):
    """Runs ``job(now)`` every ``interval`` seconds until ``stop``; an exception is logged, never fatal."""

    def __init__(self, name: str, job: Callable[[datetime], object], interval: float, stop: threading.Event, clock) -> None:
        super().__init__(name=name, daemon=True)
        self.job, self.interval, self.stop, self.clock = job, interval, stop, clock
        self.runs = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.job(self.clock.now())
                self.runs += 1
            except Exception:
                log.exception("%s failed", self.name)
            self.stop.wait(self.interval)
