"""AgentService: the one API the CLI and the web page share; every answer is a JSON-ready dict or list.

Whatever the page shows, ``--json`` shows too, because both call the same method here.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from agent.clock import Clock, SystemClock
from agent.config import Settings
from agent.errors import UserError
from agent.pipeline.account_sync import match_policy, sync_account
from agent.pipeline.engine import Progress
from agent.store.db import Store


class AgentService:
    def __init__(self, settings: Settings, *, clock: Clock | None = None, store: Store | None = None,
                 prepare: bool = True) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self._store = store
        self._prepare = prepare
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                store = Store(self.settings.database)
                if self._prepare:
                    store.prepare()
                self._store = store
            return self._store

    @property
    def zone(self):
        return self.settings.zone

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None

    def _account(self, name: str):
        account = self.settings.account(name)
        if account is None:
            known = ", ".join(a.name for a in self.settings.accounts) or "none configured"
            raise UserError(f"no account named {name!r} (accounts: {known})")
        return account

    def local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone)

    # ------------------------------------------------------------------ sync

    def sync(self, *, account: str | None = None, since: date | None = None, dry_run: bool = False,
             progress: Progress | None = None, stop: threading.Event | None = None, only_due: bool = False) -> dict:
        """One pass over the accounts (or one); returns per-target reports and totals."""
        accounts = [self._account(account)] if account else [a for a in self.settings.accounts if a.enabled]
        if not accounts:
            raise UserError("no account to sync: add one to the config (see `crm-agent init`)")
        meetings = self.feature("meetings")
        if meetings is not None and not dry_run:  # recurring series whose window moved are expanded again
            meetings.refresh_windows()
        reports = []
        for acc in accounts:
            reports.extend(sync_account(self.store, self.settings, acc, self.clock, stop=stop, progress=progress,
                                        dry_run=dry_run, since=since, only_due=only_due,
                                        rules=self.rules_hook(), calendar=self.calendar_hook(acc)))
        totals: dict[str, Any] = {"created": 0, "duplicates": 0, "updated": 0, "skipped": 0, "deleted": 0, "failed": 0}
        for r in reports:
            totals["created"] += r.counts.created
            totals["duplicates"] += r.counts.duplicates
            totals["updated"] += r.counts.updated
            totals["skipped"] += sum(r.counts.skipped.values())
            totals["deleted"] += r.deleted
            totals["failed"] += bool(r.error and r.error != "interrupted")
        result = {"dry_run": dry_run, "targets": [r.as_dict() for r in reports], "totals": totals}
        if meetings is not None and not dry_run:  # occurrences whose end passed become meeting.ended events
            result["meetings_ended"] = meetings.emit_ended()["emitted"]
        return result

    def rules_hook(self):
        """The rule engine's pipeline hook, or None when no rule is configured."""
        rules = self.feature("rules")
        return rules.pipeline_hook() if rules is not None else None

    def calendar_hook(self, account):
        """The meeting parser/drafter for calendar items and invitations, or None."""
        meetings = self.feature("meetings")
        return meetings.pipeline_hook(account) if meetings is not None else None

    # ------------------------------------------------------------------ feature services

    _FEATURES = {
        "meetings": "agent.meetings.service:MeetingsService",
        "rules": "agent.rules.service:RulesService",
        "review": "agent.matching.service:ReviewService",
        "auth": "agent.auth.service:AuthService",
    }

    def feature(self, name: str):
        """A feature's sub-service (``service.feature("rules").simulate(...)``), built once; None if not installed."""
        cache = self.__dict__.setdefault("_feature_cache", {})
        if name not in cache:
            import importlib

            module_name, _, class_name = self._FEATURES[name].partition(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                cache[name] = None
            else:
                cache[name] = getattr(module, class_name)(self)
        return cache[name]

    def test_account(self, name: str) -> dict:
        """Connect, list the targets and say what a sync would do, without writing anything."""
        from agent.connectors import make_connector

        account = self._account(name)
        connector = make_connector(account)
        try:
            targets = connector.discover()
            out = []
            for t in targets:
                entry: dict[str, Any] = {"name": t.name, "role": t.role, "kind": t.kind}
                stats = getattr(connector, "stats", None)
                if stats is not None:
                    entry.update(stats(t))
                out.append(entry)
        finally:
            connector.close()
        return {"account": name, "kind": account.kind, "ok": True, "targets": out}

    # ------------------------------------------------------------------ reading

    def status(self) -> dict:
        from agent.views.status import status_view

        with self.store.read() as session:
            return status_view(session, self.settings, self.clock.now())

    def contacts(self, *, search: str | None = None, limit: int = 200) -> list[dict]:
        from agent.views.timeline import list_contacts

        with self.store.read() as session:
            return list_contacts(session, search=search, limit=limit)

    def contact(self, ref: str, *, limit: int = 200) -> dict:
        from agent.views.timeline import contact_timeline

        with self.store.read() as session:
            return contact_timeline(session, ref, self.zone, limit=limit)

    def interactions(self, *, contact: str | None = None, company: str | None = None, since: date | None = None,
                     until: date | None = None, search: str | None = None, kind: str | None = None, limit: int = 100) -> list[dict]:
        from agent.views.timeline import list_interactions

        with self.store.read() as session:
            return list_interactions(
                session, self.zone, contact=contact, company=company,
                since=self.local_midnight(since) if since else None, until=self.local_midnight(until) if until else None,
                search=search, kind=kind, limit=limit,
            )

    def explain(self, ref: str) -> dict:
        from agent.views.explain import explain

        with self.store.read() as session:
            return explain(session, ref, self.zone)

    def activity(self, *, days: int = 60) -> dict:
        """Interactions per local day (the page's chart), the rule log's newest entries and work counts."""
        from agent.views.activity import activity_by_day, last_firing_per_rule, rule_firings, work_counts

        today = self.clock.now().astimezone(self.zone).date()
        with self.store.read() as session:
            return {"days": activity_by_day(session, self.zone, today, days), "work": work_counts(session),
                    "last_firings": last_firing_per_rule(session, self.zone),
                    "firings": rule_firings(session, self.zone, limit=20)}

    def review_counts(self) -> dict:
        """How many unknown senders and duplicate pairs wait for review (counts only: cheap on a large store)."""
        from agent.views.activity import review_counts

        with self.store.read() as session:
            return review_counts(session)

    # ------------------------------------------------------------------ writing

    def import_contacts(self, path: Path) -> dict:
        from agent.matching.contacts_file import read_contacts
        from agent.store.crm_repo import import_contacts

        rows = read_contacts(path)  # validates everything before anything is written
        with self.store.unit_of_work() as session:
            result = import_contacts(session, rows, match_policy(self.settings), self.clock.now(), region=self.settings.country)
        return {"file": str(path), "rows": len(rows), **result.as_dict()}

    def db_upgrade(self) -> dict:
        store = Store(self.settings.database)
        try:
            before, after, backup = store.upgrade()
        finally:
            store.dispose()
        return {"before": before, "after": after, "backup": str(backup) if backup else None, "database": store.url_for_display}
