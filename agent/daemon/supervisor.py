"""`crm-agent run`: one process supervising the account loops, the timer loop, the drop folder and the web page.

Start-up: lock the store (SQLite: one daemon per file), reset stages a dead process left busy, start the threads.
Config file changes are picked up without a restart (watchdog): the account loops restart on the new settings;
an invalid new file is reported and the running config kept. SIGTERM/SIGINT: stop taking work, let the batch in
flight finish or be abandoned by its transaction, exit 0 within the grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from agent.config import Settings, fingerprint, load_config
from agent.daemon.lock import InstanceLock
from agent.daemon.workers import AccountWorker, PeriodicJob
from agent.errors import UserError
from agent.pipeline import sync_state
from agent.service import AgentService
from agent.store.models import SyncTarget

log = logging.getLogger("agent.daemon")

STOP_GRACE = 8.0  # seconds the threads get to finish their batch after SIGTERM (the unit allows 10)


class Daemon:
    def __init__(self, settings: Settings, *, web: bool = True, clock=None, timer_interval: float = 30.0) -> None:
        self.settings = settings
        self.web_enabled = web and settings.web.enabled
        self.clock = clock
        self.timer_interval = timer_interval
        self.stop = threading.Event()
        self.reloaded = threading.Event()
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self.service = AgentService(settings, clock=clock)
        self.workers: list[AccountWorker] = []
        self.jobs: list[threading.Thread] = []
        self._workers_stop = threading.Event()
        self._lock: InstanceLock | None = None
        self._observer = None
        self.web = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        store = self.service.store  # opens and prepares the schema (refuses an outdated one)
        if store.sqlite_path is not None:
            self._lock = InstanceLock(store.sqlite_path)
            self._lock.acquire()
        self.reset_stale_stages()
        self._start_workers()
        self._start_jobs()
        if self.web_enabled:
            self._start_web()
        self._watch_config()
        log.info("crm-agent running: %d account(s), store %s%s", len(self.workers), store.url_for_display,
                 f", page {self.web.url}" if self.web else "")

    def reset_stale_stages(self) -> int:
        """Stages left LISTING/IMPORTING by a process that died: resumable again. With the SQLite lock held,
        nobody else can be working, so every busy stage is stale; on a shared PostgreSQL, only old ones are."""
        store = self.service.store
        limit = timedelta(seconds=-1) if store.sqlite_path is not None else self.settings.sync.stale_after
        now = self.service.clock.now()
        reset = 0
        with store.unit_of_work() as session:
            for target in session.scalars(select(SyncTarget).where(SyncTarget.stage.in_(sync_state.BUSY_STAGES))):
                reset += sync_state.reset_stale(target, now, limit)
        if reset:
            log.info("reset %d sync stage(s) left busy by a previous run", reset)
        return reset

    def _start_workers(self) -> None:
        self._workers_stop = threading.Event()
        shared = not self.service.store.is_sqlite
        for account in self.settings.accounts:
            if not account.enabled:
                continue
            worker = AccountWorker(self.service, account, _Either(self.stop, self._workers_stop), owner=self.owner,
                                   shared_store=shared)
            worker.start()
            self.workers.append(worker)

    def _stop_workers(self, grace: float) -> None:
        self._workers_stop.set()
        deadline = time.monotonic() + grace
        for worker in self.workers:
            worker.join(max(0.1, deadline - time.monotonic()))
            if worker.is_alive():
                log.warning("%s did not stop within %.0f s; its batch transaction will be rolled back", worker.name, grace)
        self.workers = []

    def _start_jobs(self) -> None:
        service = self.service
        clock = service.clock

        def timers(now) -> None:
            rules = service.feature("rules")
            if rules is not None and rules.pipeline_hook() is not None:
                rules.run_due(now)
            meetings = service.feature("meetings")
            if meetings is not None:
                meetings.emit_ended(now)

        def calendar_windows(now) -> None:
            meetings = service.feature("meetings")
            if meetings is not None:
                meetings.refresh_windows(now)

        def duplicates(now) -> None:  # merges above merge_threshold, queues the rest for review (every merge undoable)
            review = service.feature("review")
            if review is not None:
                result = review.find_duplicates(auto_merge=True)
                log.info("duplicate scan: companies %s, contacts %s", result.get("company"), result.get("contact"))

        self.jobs = [PeriodicJob("timers", timers, self.timer_interval, self.stop, clock),
                     PeriodicJob("calendar-windows", calendar_windows, 6 * 3600, self.stop, clock),
                     PeriodicJob("duplicates", duplicates, 24 * 3600, self.stop, clock)]
        meetings = service.feature("meetings")
        if meetings is not None and self.settings.dropfolder is not None:
            self.jobs.append(threading.Thread(target=meetings.watch, args=(self.stop,), name="dropfolder", daemon=True))
        for job in self.jobs:
            job.start()

    def _start_web(self) -> None:
        try:
            from agent.web.server import serve
        except ModuleNotFoundError:
            log.warning("the web page is not installed in this build")
            return
        web = self.settings.web
        token = web.token.reveal() if web.token is not None else None
        self.web = serve(self.service, host=web.bind, port=web.port, read_only=False, token=token, stop_event=self.stop)

    # ---------------------------------------------------------------- config reload

    def _watch_config(self) -> None:
        source = self.settings.source
        if source is None:
            return
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        daemon = self
        target = Path(source).resolve()

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                paths = {getattr(event, "src_path", ""), getattr(event, "dest_path", "")}
                if any(p and Path(p).resolve() == target for p in paths):
                    daemon.reload()

        self._observer = Observer()
        self._observer.schedule(Handler(), str(target.parent), recursive=False)
        self._observer.daemon = True
        self._observer.start()

    def reload(self) -> bool:
        """Re-read the config file; True when the new settings were applied."""
        time.sleep(0.2)  # editors write in several steps
        try:
            new = load_config(self.settings.source)
        except UserError as exc:
            log.error("config reload refused, keeping the running config: %s", exc.message.replace("\n", "; "))
            return False
        if fingerprint(new) == fingerprint(self.settings):
            return False
        if new.database != self.settings.database:
            log.error("config reload: the database setting changed; restart crm-agent to switch stores")
            return False
        log.info("config changed: restarting the account loops on the new settings")
        self._stop_workers(STOP_GRACE)
        store = self.service.store
        self.settings = new
        self.service = AgentService(new, clock=self.clock, store=store)
        self._start_workers()
        self.reloaded.set()
        return True

    # ---------------------------------------------------------------- running

    def run_forever(self) -> int:
        """Start, block until SIGTERM/SIGINT, stop cleanly. Returns the exit code."""
        def on_signal(signum, _frame) -> None:
            log.info("%s received: finishing the batch in flight", signal.Signals(signum).name)
            self.stop.set()

        def on_hup(_signum, _frame) -> None:  # `systemctl reload`: re-read the config file
            threading.Thread(target=self.reload, name="reload", daemon=True).start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGHUP, on_hup)
        self.start()
        try:
            while not self.stop.wait(1.0):
                pass
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        self.stop.set()
        self._stop_workers(STOP_GRACE)
        for job in self.jobs:
            job.join(1.0)
        if self._observer is not None:
            self._observer.stop()
        if self.web is not None:
            self.web.stop()
        self.service.close()
        if self._lock is not None:
            self._lock.release()
        log.info("crm-agent stopped")


class _Either(threading.Event):
    """Set when either of two events is set: the workers stop on SIGTERM and on a reload alike."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        super().__init__()
        self._events = (first, second)

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._events[0].wait(0.2 if left is None else min(0.2, left))
        return True
