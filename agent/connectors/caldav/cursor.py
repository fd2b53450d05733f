"""The CalDAV cursor: an RFC 6578 sync-token, or for servers without sync-collection a ctag plus an ETag map.

Paging (a listing longer than the engine's page) never loses a change: pages are taken in href order from the
same base (the old token, or the old ETag map), and the cursor only moves to the new token after the last page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from agent.connectors.base import CursorCodec

SYNC = "sync"  # RFC 6578 sync-collection
CTAG = "ctag"  # getctag as a "changed?" stamp, then a depth-1 PROPFIND of ETags diffed against ``etags``


@dataclass(frozen=True)
class CalDavCursor(CursorCodec):
    """Where the listing of one calendar stands.

    ``mode`` is empty until the first listing decided it. In SYNC mode ``token`` is the server's sync-token of the
    last complete listing; while pages remain, ``after`` is the last href listed and ``next_token`` the token the
    first page received (adopted once the last page is stored, so changes made meanwhile are listed next time).
    In CTAG mode ``ctag`` is the collection's getctag at the last complete listing and ``etags`` maps each object's
    name (its href inside the calendar) to the ETag last listed; a page updates the map for what it listed only.
    """

    VERSION: ClassVar[int] = 1
    mode: str = ""
    token: str = ""
    ctag: str = ""
    etags: dict[str, str] = field(default_factory=dict)
    after: str | None = None
    next_token: str = ""
    next_ctag: str = ""

    @property
    def paging(self) -> bool:
        return self.after is not None


@dataclass(frozen=True)
class FolderCursor(CursorCodec):
    """A folder of .ics files: a stamp of (name, size, mtime) of every file; ``after`` while a listing is paged."""

    VERSION: ClassVar[int] = 1
    stamp: str = ""
    after: str | None = None
    pending_stamp: str = ""
