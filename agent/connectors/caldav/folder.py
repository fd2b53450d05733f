"""A local folder of .ics files as a calendar source (``kind = "ics"``): the demo calendar, vdirsyncer and Radicale
storage folders, or one exported .ics file.

Targets: the folder itself when it holds .ics files; otherwise each sub-folder that does (vdirsyncer keeps one
folder per calendar); a single file is its own target. Location = ``<account>/<target>/<file name>``, version =
size and modification time. A changed folder (stamp of every file's name, size and mtime) is enumerated whole
(``is_full``): the engine skips unchanged versions and removes what disappeared.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from agent.connectors.base import sleep_wait
from agent.connectors.caldav.cursor import FolderCursor
from agent.errors import CursorInvalid, UserError
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef

SUFFIX = ".ics"


class IcsFolderConnector:
    """Serves one ``ics`` account."""

    kind: ClassVar[str] = "ics"

    def __init__(self, account_name: str, path: Path, *, stop: threading.Event | None = None) -> None:
        self.name = account_name
        self.root = Path(path).expanduser()
        self.stop = stop

    def _targets(self) -> dict[str, Path]:
        if not self.root.exists():
            raise UserError(f"account {self.name}: {self.root} does not exist")
        if self.root.is_file():
            return {self.root.name: self.root}
        if _has_ics(self.root):
            return {self.root.name: self.root}
        subs = {child.name: child for child in sorted(self.root.iterdir())
                if child.is_dir() and not child.name.startswith(".") and _has_ics(child)}
        return subs or {self.root.name: self.root}

    def discover(self) -> list[TargetRef]:
        return [TargetRef(self.name, name, "calendar", "calendar", name) for name in self._targets()]

    def _files(self, target: TargetRef) -> dict[str, Path]:
        path = self._targets().get(target.name)
        if path is None:
            raise CursorInvalid(f"calendar folder {target.name} disappeared")
        if path.is_file():
            return {path.name: path}
        with os.scandir(path) as entries:
            return {e.name: Path(e.path) for e in entries
                    if e.name.lower().endswith(SUFFIX) and not e.name.startswith(".") and e.is_file()}

    def _versions(self, files: dict[str, Path]) -> dict[str, str]:
        versions = {}
        for name, path in files.items():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            versions[name] = f"{st.st_size}-{st.st_mtime_ns}"
        return versions

    @staticmethod
    def _stamp(versions: dict[str, str]) -> str:
        digest = hashlib.sha256()
        for name in sorted(versions):
            digest.update(f"{name}\0{versions[name]}\n".encode())
        return digest.hexdigest()[:32]

    def probe(self, target: TargetRef, cursor: str) -> bool:
        state = FolderCursor.from_json(cursor)
        if state is None or state.after is not None:
            return True
        return self._stamp(self._versions(self._files(target))) != state.stamp

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        state = FolderCursor.from_json(cursor) or FolderCursor()
        versions = self._versions(self._files(target))
        if state.after is None:
            stamp = self._stamp(versions)
            if stamp == state.stamp:
                return ChangeSet((), (), cursor)
        else:
            stamp = state.pending_stamp
        names = sorted(versions)
        start = 0 if state.after is None else next((i for i, n in enumerate(names) if n > state.after), len(names))
        page = names[start : start + limit]
        more = start + limit < len(names)
        refs = tuple(ItemRef(f"{self.name}/{target.name}/{n}", n, versions[n]) for n in page)
        next_state = FolderCursor(state.stamp, page[-1], stamp) if more else FolderCursor(stamp)
        return ChangeSet(refs, (), next_state.to_json(), more=more, is_full=True)

    def fetch(self, target: TargetRef, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        files = self._files(target)
        for ref in refs:
            path = files.get(ref.key)
            if path is None:
                continue
            try:
                data = path.read_bytes()
                st = path.stat()
            except FileNotFoundError:  # removed since the listing: the next listing says so
                continue
            version = f"{st.st_size}-{st.st_mtime_ns}"
            yield RawItem(ItemRef(ref.location, ref.key, version), data, "text/calendar",
                          received_at=datetime.fromtimestamp(st.st_mtime, UTC), size=len(data))

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        return sleep_wait(self.stop, timeout)

    def close(self) -> None:
        return None


def _has_ics(directory: Path) -> bool:
    try:
        with os.scandir(directory) as entries:
            return any(e.name.lower().endswith(SUFFIX) and e.is_file() for e in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False
