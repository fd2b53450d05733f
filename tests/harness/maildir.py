"""Writes messages straight into a Dovecot Maildir++ tree, the fast way to build large IMAP fixtures.

Dovecot picks such files up at the next SELECT/STATUS. What it derives from them, and how this writer controls it:
- UIDs: new files get UIDs in the order of the time stamp and microseconds in their names, so each message gets a
  strictly increasing (seconds, microseconds) pair and UIDs follow the write order, across calls too.
- INTERNALDATE: the file's mtime.
- RFC822.SIZE: counted with CRLF line ends; the name carries ``S=`` (bytes on disk, LF ends) and ``W=`` (CRLF size)
  so Dovecot need not read the file to know either.
- Folder names: Maildir++ stores ``A/B`` as the directory ``.A.B``, each part in IMAP modified UTF-7.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Sequence
from pathlib import Path

from imapclient import imap_utf7

from .process import ServiceAccount

InternalDate = dt.datetime | float | int | None
HOST_PART = "crmt"


def maildir_folder_dirname(folder: str) -> str | None:
    """The Maildir++ directory name of an IMAP folder (hierarchy separator "/"); None for INBOX, the root itself."""
    if folder.upper() == "INBOX":
        return None
    parts = folder.split("/")
    for part in parts:
        if not part or "." in part or part.startswith("~"):
            raise ValueError(f"folder {folder!r}: each part must be non-empty, without '.', not starting with '~'")
    return "." + ".".join(imap_utf7.encode(part).decode("ascii") for part in parts)


def _epoch_seconds(when: InternalDate) -> float | None:
    if when is None or isinstance(when, (int, float)):
        return when
    if when.tzinfo is None:
        # A naive datetime would otherwise be read as local time; the harness treats it as UTC.
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


class MaildirWriter:
    """Direct writer for one Dovecot instance's mail tree (``<home_root>/<user>/Maildir``)."""

    def __init__(self, home_root: Path, owner: ServiceAccount) -> None:
        self.home_root = home_root
        self.owner = owner
        self._base_seconds = int(time.time())
        self._sequence = 0

    def maildir(self, user: str) -> Path:
        return self.home_root / user / "Maildir"

    def folder_path(self, user: str, folder: str) -> Path:
        dirname = maildir_folder_dirname(folder)
        root = self.maildir(user)
        return root if dirname is None else root / dirname

    def ensure_folder(self, user: str, folder: str) -> Path:
        """Create the user's home, Maildir and the folder (cur/new/tmp) as the server account would."""
        home = self.home_root / user
        root = self.maildir(user)
        path = self.folder_path(user, folder)
        for directory in (self.home_root, home, root, root / "cur", root / "new", root / "tmp",
                          path, path / "cur", path / "new", path / "tmp"):
            self._make_dir(directory)
        if path != root and not (path / "maildirfolder").exists():
            # Maildir++ marks subfolders with this empty file.
            (path / "maildirfolder").touch()
            self.owner.give(path / "maildirfolder")
        return path

    def write_messages(self, user: str, folder: str, messages: Sequence[bytes], *,
                       internal_dates: Sequence[InternalDate] | None = None, seen: bool = False) -> list[Path]:
        """Write ``messages`` (any line ends; stored with LF) so their UIDs follow list order. Returns the files."""
        if internal_dates is not None and len(internal_dates) != len(messages):
            raise ValueError(f"{len(internal_dates)} internal_dates for {len(messages)} messages")
        path = self.ensure_folder(user, folder)
        flags = "S" if seen else ""
        written = []
        for index, raw in enumerate(messages):
            body = raw.replace(b"\r\n", b"\n")
            crlf_size = len(body) + body.count(b"\n")
            name = self._next_base_name()
            final_name = f"{name},S={len(body)},W={crlf_size}:2,{flags}"
            staging = path / "tmp" / name
            with open(staging, "wb") as handle:
                handle.write(body)
            when = _epoch_seconds(internal_dates[index]) if internal_dates is not None else None
            if when is not None:
                os.utime(staging, (when, when))
            if self.owner.is_switched:
                os.chown(staging, self.owner.uid, self.owner.gid)
            # Written in tmp/ then renamed, as a delivery agent does, so Dovecot never sees half a file.
            target = path / "cur" / final_name
            os.rename(staging, target)
            written.append(target)
        return written

    def _next_base_name(self) -> str:
        seconds, micros = divmod(self._sequence, 1_000_000)
        self._sequence += 1
        return f"{self._base_seconds + seconds}.M{micros}P{os.getpid()}Q{self._sequence}.{HOST_PART}"

    def _make_dir(self, directory: Path) -> None:
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            return
        self.owner.give(directory)
