"""The watched drop folder: files placed there are imported once they are complete, then moved away.

A file is complete when its size and modification time have not changed for ``settle`` (measured on the injected
clock between two looks), so a file still being copied or downloaded is never read half-written; names that
copy tools and browsers use while writing (``.part``, ``.crdownload``, ``~$…``) are ignored until renamed.
watchdog wakes the loop on any change; a periodic look covers filesystems without notifications.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agent.clock import Clock
from agent.dropfolder.files import is_candidate
from agent.dropfolder.importer import DropImporter, FileOutcome
from agent.errors import AgentError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Seen:
    size: int
    mtime_ns: int
    since: datetime  # when this size and mtime were first seen


class DropFolderWatcher:
    """Watches one folder (not its sub-folders: processed/ and rejected/ live there)."""

    def __init__(self, importer: DropImporter, folder: Path, *, settle: timedelta, clock: Clock,
                 on_outcome: Callable[[FileOutcome], None] | None = None) -> None:
        self.importer = importer
        self.folder = Path(folder)
        self.settle = settle
        self.clock = clock
        self.on_outcome = on_outcome
        self._seen: dict[Path, _Seen] = {}
        self._wake = threading.Event()

    def scan(self) -> list[FileOutcome]:
        """One look at the folder: import every file that has been still for ``settle``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        now = self.clock.now()
        present: set[Path] = set()
        outcomes = []
        with os.scandir(self.folder) as entries:
            files = sorted(Path(e.path) for e in entries if e.is_file() and is_candidate(Path(e.path)))
        for path in files:
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            present.add(path)
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._seen[path] = seen = _Seen(st.st_size, st.st_mtime_ns, now)
            if now - seen.since < self.settle:
                continue
            outcome = self._import(path)
            if outcome is not None:
                outcomes.append(outcome)
                present.discard(path)
        self._seen = {p: s for p, s in self._seen.items() if p in present}
        return outcomes

    def _import(self, path: Path) -> FileOutcome | None:
        try:
            outcome = self.importer.import_file(path, move=True)
        except AgentError as exc:  # the store is busy or the disk refused: try again at the next look
            log.warning("drop folder: %s: %s", path.name, exc.message)
            return None
        log.info("drop folder: %s %s (%s)", path.name, outcome.status, outcome.reason or f"{outcome.items} items")
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event, *, poll: float | None = None) -> None:
        """Watch until ``stop`` is set: look on every filesystem event, and at least every ``poll`` seconds."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Wake(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                watcher.wake()

        self.folder.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.schedule(Wake(), str(self.folder), recursive=False)
        observer.start()
        # at most a second between looks, so a stop request is noticed promptly
        interval = poll if poll is not None else min(max(self.settle.total_seconds(), 0.2), 1.0)
        try:
            while not stop.is_set():
                self.scan()
                self._wake.wait(interval)
                self._wake.clear()
        finally:
            observer.stop()
            observer.join(timeout=5)
