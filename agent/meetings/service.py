"""MeetingsService: the meetings feature's API for the CLI, the web page, the daemon and the sync pipeline.

Built lazily by ``AgentService.feature("meetings")``; every public method returns JSON-ready dicts or lists.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from pathlib import Path

from agent.dropfolder.files import file_kind, is_candidate
from agent.dropfolder.importer import DropImporter
from agent.errors import UserError
from agent.meetings import store
from agent.meetings.hook import CalendarHook
from agent.meetings.views import list_meetings

#: A meeting first seen at most this long after its end still gets its meeting.ended event (see store.emit_ended).
ENDED_CATCH_UP = timedelta(hours=24)
#: A recurring series is expanded again this long after its last expansion (the future horizon shrinks by as much).
REEXPAND_AFTER = timedelta(days=7)


class MeetingsService:
    def __init__(self, service) -> None:
        self.service = service

    # ------------------------------------------------------------------ pipeline

    def pipeline_hook(self, account) -> CalendarHook:
        """Parses calendar objects and invitations for ``account`` (every account: mail carries invitations)."""
        return CalendarHook(account, default_tz=self.service.settings.timezone)

    # ------------------------------------------------------------------ reading

    def list(self, *, contact: str | None = None, since: date | None = None, until: date | None = None,
             limit: int = 200) -> list[dict]:
        """Occurrences overlapping [since, until) (local days), in start order, with participants and answers."""
        if since and until and until <= since:
            raise UserError(f"--until {until} must come after --since {since}")
        with self.service.store.read() as session:
            return list_meetings(
                session, self.service.zone, contact=contact,
                since=self.service.local_midnight(since) if since else None,
                until=self.service.local_midnight(until) if until else None, limit=limit,
            )

    def refresh_windows(self, now: datetime | None = None) -> dict:
        """Recurring calendar objects expanded more than ``REEXPAND_AFTER`` ago are queued to be fetched and expanded
        again, so the occurrences entering the window as time passes appear although nobody edited the series."""
        from agent.pipeline import sync_state
        from agent.store.models import SyncTarget

        now = now or self.service.clock.now()
        with self.service.store.unit_of_work() as session:
            queued = store.requeue_aged_series(session, now - REEXPAND_AFTER)
            for target_id in queued:
                sync_state.mark_due(session.get(SyncTarget, target_id), now)
        return {"targets": len(queued), "series": sum(queued.values())}

    # ------------------------------------------------------------------ events

    def emit_ended(self, now: datetime | None = None) -> dict:
        """Write the meeting.ended events of occurrences whose end has passed (each once). Call it on a timer."""
        now = now or self.service.clock.now()
        with self.service.store.unit_of_work() as session:
            ids = store.emit_ended(session, now, catch_up=ENDED_CATCH_UP)
        return {"emitted": len(ids), "interaction_ids": ids}

    def pending_events(self, kind: str | None = None, limit: int = 500) -> list[dict]:
        with self.service.store.read() as session:
            return [{"id": e.id, "kind": e.kind, "key": e.key, "interaction_id": e.interaction_id, "payload": e.payload,
                     "occurred_at": e.occurred_at.isoformat()} for e in store.pending_events(session, kind, limit)]

    # ------------------------------------------------------------------ drop folder

    @property
    def drop_folder(self) -> Path | None:
        settings = self.service.settings.dropfolder
        return settings.path if settings is not None else None

    def import_path(self, path: Path, *, move: bool | None = None) -> dict:
        """Import a file, or every supported file of a folder, once. Files move to processed/ and rejected/ when
        ``move`` (default: only when ``path`` is the configured drop folder or a file in it)."""
        path = Path(path).expanduser()
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
        folder = path if path.is_dir() else path.parent
        if move is None:
            move = self.drop_folder is not None and folder.resolve() == self.drop_folder.resolve()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and is_candidate(p) and file_kind(p))
        else:
            files = [path]
        importer = DropImporter(self.service)
        outcomes = [importer.import_file(p, move=move).as_dict() for p in files]
        totals = {status: sum(1 for o in outcomes if o["status"] == status)
                  for status in ("imported", "duplicate", "rejected")}
        return {"path": str(path), "moved": move, "files": outcomes, "totals": totals}

    def drop_watcher(self, on_outcome=None):
        """The watcher of the configured drop folder (for `crm-agent run`), or None when none is configured."""
        from agent.dropfolder.watcher import DropFolderWatcher

        settings = self.service.settings.dropfolder
        if settings is None:
            return None
        return DropFolderWatcher(DropImporter(self.service), settings.path, settle=settings.settle,
                                 clock=self.service.clock, on_outcome=on_outcome)

    def watch(self, stop: threading.Event) -> None:
        """Run the drop-folder watcher until ``stop`` is set (no-op without a [dropfolder] section)."""
        watcher = self.drop_watcher()
        if watcher is not None:
            watcher.run(stop)
