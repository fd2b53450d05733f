"""Imports dropped files once: mail and calendars through the ingest pipeline, contacts through the contacts importer.

A file is known by the SHA-256 of its bytes (``dropped_file``): the same file dropped twice is imported once.
Its items, the pipeline's writes and the file's record commit in one transaction; only then is the file moved
to ``processed/`` (a crash in between finds the hash recorded next time, and just moves it). A file that cannot be
read goes to ``rejected/`` with ``<name>.reason`` beside it.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from agent.dropfolder.files import DroppedItems, Rejected, content_hash, file_kind, read_items
from agent.errors import UserError
from agent.pipeline import sync_state
from agent.pipeline.account_sync import ContextFactory
from agent.pipeline.run import run_batch
from agent.records import TargetRef, Visibility
from agent.store import sync_repo
from agent.store.models_meetings import DroppedFile
from agent.store.sql import dialect_insert

log = logging.getLogger(__name__)

ACCOUNT = "drop-folder"  # the account row dropped items are sighted under (config names cannot clash: no hyphen rule)
PROCESSED, REJECTED = "processed", "rejected"


@dataclass(frozen=True)
class DropAccount:
    """Settings the pipeline reads for dropped items (not a configurable account)."""

    name: str = ACCOUNT
    kind: str = "dropfolder"
    visibility: Visibility = Visibility.SNIPPET
    create_contacts: str | None = None
    owner: str | None = None
    enabled: bool = True


@dataclass
class FileOutcome:
    file: str
    status: str  # imported | duplicate | rejected
    kind: str = ""
    reason: str = ""
    items: int = 0
    counts: dict = field(default_factory=dict)
    moved_to: str | None = None

    def as_dict(self) -> dict:
        return {"file": self.file, "status": self.status, "kind": self.kind, "reason": self.reason,
                "items": self.items, "counts": self.counts, "moved_to": self.moved_to}


class DropImporter:
    """Imports files for one AgentService (its store, settings, clock, rules and calendar hooks)."""

    def __init__(self, service) -> None:
        self.service = service
        self.account = DropAccount()

    def import_file(self, path: Path, *, move: bool) -> FileOutcome:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
        digest = content_hash(data)
        now = self.service.clock.now()
        known = self._known(digest)
        if known is not None and known[0] == "imported":
            return self._done(FileOutcome(str(path), "duplicate", known[1], f"already imported as {known[2]}"),
                              path, move, PROCESSED)
        try:
            items = read_items(path, data, ACCOUNT)
            outcome = self._import(path, items, now)
        except Rejected as exc:
            self._record(digest, path, file_kind(path) or "", "rejected", str(exc), 0, now)
            return self._done(FileOutcome(str(path), "rejected", file_kind(path) or "", str(exc)), path, move, REJECTED)
        return self._done(outcome, path, move, PROCESSED)

    # ------------------------------------------------------------------ importing

    def _import(self, path: Path, items: DroppedItems, now: datetime) -> FileOutcome:
        if items.kind in ("vcf", "csv"):
            try:
                result = self.service.import_contacts(path)
            except UserError as exc:
                raise Rejected(exc.message) from None
            self._record(items.content_hash, path, items.kind, "imported", "", result["rows"], now)
            return FileOutcome(str(path), "imported", items.kind, items=result["rows"], counts=result)
        hook = self.service.calendar_hook(self.account)
        if items.kind == "ics":
            self._check_calendar(hook, items, now)
        with self.service.store.unit_of_work() as session:
            row, _ = sync_repo.ensure_account(session, ACCOUNT, "dropfolder", "", now)
            target_kind = "calendar" if items.kind == "ics" else "mail"
            [target] = sync_repo.ensure_targets(session, row, [TargetRef(ACCOUNT, target_kind, target_kind, "other",
                                                                         "dropped files")], now)
            factory = ContextFactory(self.service.settings, self.account, rules=self.service.rules_hook(),
                                     calendar=hook)
            batch = run_batch(list(items.raws), factory(session, target), now)
            sync_state.import_complete(target, now)  # `status` shows when the drop folder last imported
            self._record(items.content_hash, path, items.kind, "imported", "", len(items.raws), now, session=session,
                         details=batch.report.as_dict())
        return FileOutcome(str(path), "imported", items.kind, items=len(items.raws), counts=batch.report.as_dict())

    @staticmethod
    def _check_calendar(hook, items: DroppedItems, now: datetime) -> None:
        if hook is None:
            raise Rejected("calendar files need the meetings feature")
        parsed = hook.parse(items.raws[0], now)
        if "ical:unparseable" in parsed.repairs or not (parsed.uids or parsed.replies):
            raise Rejected("no event could be read from this iCalendar file")

    # ------------------------------------------------------------------ records and moves

    def _known(self, digest: str) -> tuple[str, str, str] | None:
        """(status, kind, name) of the file already seen with these bytes."""
        with self.service.store.read() as session:
            row = session.execute(select(DroppedFile.status, DroppedFile.file_kind, DroppedFile.name)
                                  .where(DroppedFile.content_hash == digest)).first()
            return tuple(row) if row else None

    def _record(self, digest: str, path: Path, kind: str, status: str, reason: str, items: int, now: datetime, *,
                session=None, details: dict | None = None) -> None:
        values = {"content_hash": digest, "name": path.name[:512], "file_kind": kind, "status": status,
                  "reason": reason, "items": items, "details": details or {}, "imported_at": now}
        if session is None:
            with self.service.store.unit_of_work() as own:
                self._upsert(own, values)
        else:
            self._upsert(session, values)

    @staticmethod
    def _upsert(session, values: dict) -> None:
        stmt = dialect_insert(session, DroppedFile)
        stmt = stmt.on_conflict_do_update(index_elements=["content_hash"],
                                          set_={k: stmt.excluded[k] for k in values if k != "content_hash"})
        session.execute(stmt, [values])

    @staticmethod
    def _done(outcome: FileOutcome, path: Path, move: bool, where: str) -> FileOutcome:
        if not move:
            return outcome
        folder = path.parent / where
        folder.mkdir(exist_ok=True)
        destination = _free_name(folder / path.name)
        shutil.move(str(path), destination)
        outcome.moved_to = str(destination)
        if where == REJECTED:
            destination.with_name(destination.name + ".reason").write_text(outcome.reason + "\n", encoding="utf-8")
        return outcome


def _free_name(wanted: Path) -> Path:
    """``facture.eml`` → ``facture-2.eml`` when a file of that name was processed before."""
    candidate, n = wanted, 1
    while candidate.exists():
        n += 1
        candidate = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
    return candidate
