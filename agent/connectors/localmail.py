"""Local mail stores as sources: Maildir / Maildir++ trees (mbsync, offlineimap, Dovecot) and mbox files (Thunderbird).

A Maildir message's location is its unique name (the file name without the ``:2,flags`` suffix), which survives
flag changes and moves between ``new/`` and ``cur/``. An mbox message has no stable name, so its location is a
hash of its bytes. Listing a changed folder enumerates it whole (``is_full``); the engine skips what it already
holds and removes what disappeared. An unchanged folder (same directory mtimes and count) lists nothing.
"""

from __future__ import annotations

import hashlib
import mailbox
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from agent.connectors.base import CursorCodec, sleep_wait
from agent.errors import CursorInvalid, UserError
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef

SENT_NAMES = {"sent", "sent items", "sent messages", "envoyés", "éléments envoyés", "messages envoyés", "elements envoyes"}


@dataclass(frozen=True)
class LocalCursor(CursorCodec):
    """Directory stamp of the folder when it was last listed; ``after`` is set while a listing is paged."""

    VERSION: ClassVar[int] = 1
    stamp: str = ""
    after: str | None = None
    pending_stamp: str = ""


@dataclass
class _Folder:
    name: str
    path: Path
    kind: str  # "maildir" | "mbox"
    names: list[str] = field(default_factory=list)


def _maildir_stamp(path: Path) -> str:
    parts = []
    for sub in ("new", "cur"):
        try:
            st = os.stat(path / sub)
            parts.append(f"{st.st_mtime_ns}:{st.st_nlink}:{len(os.listdir(path / sub))}")
        except FileNotFoundError:
            parts.append("-")
    return "|".join(parts)


def _file_stamp(path: Path) -> str:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}"


class LocalMailConnector:
    """Serves one ``maildir`` or ``mbox`` account (see agent.connectors.base for the vocabulary)."""

    kind: ClassVar[str] = "maildir"

    def __init__(self, account_name: str, root: Path, *, fmt: str = "maildir", folders: list[str] | None = None,
                 stop=None) -> None:
        self.account = account_name
        self.root = Path(root).expanduser()
        self.fmt = fmt
        self.only = folders
        self.stop = stop
        self._mbox_cache: dict[str, dict[str, bytes]] = {}

    # ---------------------------------------------------------------- discovery

    def _folders(self) -> dict[str, _Folder]:
        if not self.root.exists():
            raise UserError(f"account {self.account}: {self.root} does not exist")
        found: dict[str, _Folder] = {}
        if self.fmt == "mbox":
            files = [self.root] if self.root.is_file() else sorted(p for p in self.root.rglob("*") if p.is_file() and not p.suffix)
            for path in files:
                name = path.name if path == self.root else str(path.relative_to(self.root))
                found[name] = _Folder(name, path, "mbox")
            return found
        if (self.root / "cur").is_dir():  # Maildir++: the root is INBOX, subfolders are ".Name"
            found["INBOX"] = _Folder("INBOX", self.root, "maildir")
            for child in sorted(self.root.iterdir()):
                if child.name.startswith(".") and (child / "cur").is_dir():
                    name = child.name[1:].replace(".", "/")
                    found[name] = _Folder(name, child, "maildir")
        else:  # a tree of plain maildirs (mbsync "Path" layout)
            for cur in sorted(self.root.rglob("cur")):
                folder = cur.parent
                name = str(folder.relative_to(self.root)) or "INBOX"
                found[name] = _Folder(name, folder, "maildir")
        if not found:
            raise UserError(f"account {self.account}: no {self.fmt} folder found under {self.root}")
        return found

    def discover(self) -> list[TargetRef]:
        folders = self._folders()
        names = self.only if self.only is not None else list(folders)
        missing = [n for n in names if n not in folders]
        if missing:
            raise UserError(f"account {self.account}: folder {missing[0]!r} not found (have: {', '.join(folders)})")
        out = []
        for name in names:
            base = name.rsplit("/", 1)[-1].lower()
            role = "inbox" if name.upper() == "INBOX" else "sent" if base in SENT_NAMES else "other"
            out.append(TargetRef(self.account, name, "mail", role, name))
        return out

    # ---------------------------------------------------------------- listing

    def _stamp(self, folder: _Folder) -> str:
        return _maildir_stamp(folder.path) if folder.kind == "maildir" else _file_stamp(folder.path)

    def probe(self, target: TargetRef, cursor: str) -> bool:
        state = LocalCursor.from_json(cursor)
        folder = self._folders().get(target.name)
        return state is None or folder is None or self._stamp(folder) != state.stamp

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        state = LocalCursor.from_json(cursor) or LocalCursor()
        folder = self._folders().get(target.name)
        if folder is None:
            raise CursorInvalid(f"folder {target.name} disappeared")
        if state.after is None:
            stamp = self._stamp(folder)
            if stamp == state.stamp:
                return ChangeSet((), (), cursor)
        else:
            stamp = state.pending_stamp
        keys = self._list_keys(folder)
        start = 0 if state.after is None else next((i for i, k in enumerate(keys) if k > state.after), len(keys))
        page = keys[start : start + limit]
        more = start + limit < len(keys)
        refs = tuple(ItemRef(f"{self.account}/{folder.name}/{key}", key) for key in page)
        next_state = LocalCursor(stamp=state.stamp, after=page[-1], pending_stamp=stamp) if more else LocalCursor(stamp=stamp)
        return ChangeSet(refs, (), next_state.to_json(), more=more, is_full=True)

    def _list_keys(self, folder: _Folder) -> list[str]:
        if folder.kind == "mbox":
            messages = self._read_mbox(folder)
            return sorted(messages)
        keys = []
        for sub in ("new", "cur"):
            try:
                with os.scandir(folder.path / sub) as entries:
                    keys.extend(e.name.split(":", 1)[0] for e in entries if not e.name.startswith("."))
            except FileNotFoundError:
                continue
        return sorted(set(keys))

    def _read_mbox(self, folder: _Folder) -> dict[str, bytes]:
        stamp = _file_stamp(folder.path)
        cached = self._mbox_cache.get(f"{folder.name}@{stamp}")
        if cached is not None:
            return cached
        messages: dict[str, bytes] = {}
        box = mailbox.mbox(folder.path, create=False)
        try:
            for message in box:
                data = message.as_bytes()
                messages["sha-" + hashlib.sha256(data).hexdigest()[:24]] = data
        finally:
            box.close()
        self._mbox_cache = {f"{folder.name}@{stamp}": messages}
        return messages

    # ---------------------------------------------------------------- fetching

    def fetch(self, target: TargetRef, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        folder = self._folders().get(target.name)
        if folder is None:
            return
        if folder.kind == "mbox":
            messages = self._read_mbox(folder)
            for ref in refs:
                if (data := messages.get(ref.key)) is not None:
                    yield RawItem(ref, data, size=len(data))
            return
        index = self._index(folder)
        for ref in refs:
            path = index.get(ref.key)
            if path is None:
                continue
            try:
                data = path.read_bytes()
                mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:  # moved or deleted since the listing: the next listing will say so
                continue
            yield RawItem(ref, data, received_at=mtime, size=len(data))

    def _index(self, folder: _Folder) -> dict[str, Path]:
        index = {}
        for sub in ("new", "cur"):
            try:
                with os.scandir(folder.path / sub) as entries:
                    for e in entries:
                        index[e.name.split(":", 1)[0]] = Path(e.path)
            except FileNotFoundError:
                continue
        return index

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        return sleep_wait(self.stop, timeout)

    def close(self) -> None:
        self._mbox_cache.clear()
