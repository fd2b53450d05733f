"""The CalDAV connector: calendars as targets, objects listed by sync-token (or ctag + ETags), fetched by multiget.

- ``discover``: the calendars holding events (or the configured URL when it is one calendar), filtered by the
  account's ``calendars`` list (display name, last path segment or full path).
- ``list_changes``: RFC 6578 sync-collection with the stored token; a token the server refuses (403/409/412
  ``valid-sync-token``) raises ``CursorInvalid`` and the engine lists everything again (no duplicate: writes are
  keyed by identity). A server without sync-collection is listed by getctag + a depth-1 PROPFIND of ETags,
  diffed against the ETag map kept in the cursor (``sync_method = "ctag"`` forces that path).
- ``fetch``: calendar-multiget by pages of hrefs (GET per object if the server lacks multiget).

Location = ``<account>/<object href>``, key = the href, version = the ETag.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import ClassVar

from agent.connectors.base import sleep_wait
from agent.connectors.caldav.cursor import CTAG, SYNC, CalDavCursor
from agent.connectors.caldav.dav import Collection, DavSession, SyncPage, SyncUnsupported, TokenRejected
from agent.errors import CursorInvalid, TemporaryError, UserError
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef

MULTIGET_CHUNK = 250


class CalDavConnector:
    """Serves one ``caldav`` account (see agent.connectors.base for the vocabulary)."""

    kind: ClassVar[str] = "caldav"

    def __init__(self, account, *, stop: threading.Event | None = None, client_factory=None) -> None:
        self.account = account
        self.name = account.name
        self.stop = stop
        self.dav = DavSession(account, client_factory=client_factory)
        # A sync answer is kept while its pages are handed out, so paging does not repeat the REPORT.
        self._pages: dict[tuple[str, str], SyncPage] = {}

    # ------------------------------------------------------------------ discovery

    def discover(self) -> list[TargetRef]:
        found = [c for c in self.dav.calendars() if c.holds_events]
        wanted = self.account.calendars
        if wanted is not None:
            chosen = []
            for entry in wanted:
                match = next((c for c in found if _names(c) & {entry, entry.strip("/")}), None)
                if match is None:
                    have = ", ".join(sorted(c.display or c.path for c in found)) or "none"
                    raise UserError(f"account {self.name}: calendar {entry!r} not found (calendars: {have})")
                chosen.append(match)
            found = chosen
        return [TargetRef(self.name, c.path, "calendar", "calendar", c.display or _last_segment(c.path)) for c in found]

    # ------------------------------------------------------------------ listing

    def probe(self, target: TargetRef, cursor: str) -> bool:
        state = CalDavCursor.from_json(cursor)
        if state is None or state.paging or not state.mode:
            return True
        collection = self.dav.state(target.name)
        if state.mode == SYNC:
            if collection.sync_token:
                return collection.sync_token != state.token
            try:
                page = self.dav.sync(target.name, state.token)
            except (TokenRejected, SyncUnsupported):
                return True
            return bool(page.changed or page.deleted)
        return not collection.ctag or collection.ctag != state.ctag

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        state = CalDavCursor.from_json(cursor) or CalDavCursor()
        if state.mode not in ("", SYNC, CTAG):
            raise CursorInvalid(f"unknown cursor mode {state.mode!r}")
        mode = state.mode or (CTAG if self.account.sync_method == "ctag" else SYNC)
        if mode == SYNC:
            try:
                return self._list_by_token(target, state, limit)
            except SyncUnsupported as exc:
                if state.mode == SYNC or self.account.sync_method == "sync-token":
                    raise TemporaryError(f"calendar {target.label}: {exc}; set sync_method = \"ctag\" for this "
                                         "server") from None
                state = CalDavCursor()  # a server without sync-collection: list it by ETags from now on
        return self._list_by_etags(target, state, limit)

    def _list_by_token(self, target: TargetRef, state: CalDavCursor, limit: int) -> ChangeSet:
        page = self._sync_answer(target.name, state.token)
        entries = sorted({*page.changed, *page.deleted})
        start = 0 if state.after is None else _first_after(entries, state.after)
        chosen = entries[start : start + limit]
        more = start + limit < len(entries)
        upserts = tuple(self._ref(h, page.changed[h]) for h in chosen if h in page.changed)
        deletes = tuple(self._location(h) for h in chosen if h in page.deleted)
        final_token = state.next_token if state.paging else page.token
        if more:
            next_state = CalDavCursor(SYNC, token=state.token, after=chosen[-1], next_token=final_token)
        else:
            next_state = CalDavCursor(SYNC, token=final_token)
            self._pages.pop((target.name, state.token), None)
        return ChangeSet(upserts, deletes, next_state.to_json(), more=more, is_full=not state.token)

    def _sync_answer(self, path: str, token: str) -> SyncPage:
        key = (path, token)
        if key not in self._pages:
            try:
                self._pages = {key: self.dav.sync(path, token)}
            except TokenRejected as exc:
                raise CursorInvalid(f"calendar {path}: {exc}") from None
        return self._pages[key]

    def _list_by_etags(self, target: TargetRef, state: CalDavCursor, limit: int) -> ChangeSet:
        first = not state.mode
        if state.paging:
            ctag = state.next_ctag
        else:
            ctag = self.dav.state(target.name).ctag
            if not first and ctag and ctag == state.ctag:
                return ChangeSet((), (), state.to_json())
        prefix = target.name.rstrip("/") + "/"
        current = {h[len(prefix):] if h.startswith(prefix) else h: e for h, e in self.dav.etags(target.name).items()}
        changed = {name for name, etag in current.items() if state.etags.get(name) != etag}
        gone = {name for name in state.etags if name not in current}
        entries = sorted(changed | gone)
        start = 0 if state.after is None else _first_after(entries, state.after)
        chosen = entries[start : start + limit]
        more = start + limit < len(entries)
        etags = dict(state.etags)
        upserts, deletes = [], []
        for name in chosen:
            href = name if name.startswith("/") else prefix + name
            if name in current:
                etags[name] = current[name]
                upserts.append(self._ref(href, current[name]))
            else:
                etags.pop(name, None)
                deletes.append(self._location(href))
        if more:
            next_state = CalDavCursor(CTAG, ctag=state.ctag, etags=etags, after=chosen[-1], next_ctag=ctag)
        else:
            next_state = CalDavCursor(CTAG, ctag=ctag, etags=etags)
        return ChangeSet(tuple(upserts), tuple(deletes), next_state.to_json(), more=more, is_full=first)

    def _location(self, href: str) -> str:
        return f"{self.name}/{href.lstrip('/')}"

    def _ref(self, href: str, etag: str) -> ItemRef:
        return ItemRef(self._location(href), href, etag)

    # ------------------------------------------------------------------ fetching

    def fetch(self, target: TargetRef, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        refs = list(refs)
        for start in range(0, len(refs), MULTIGET_CHUNK):
            chunk = refs[start : start + MULTIGET_CHUNK]
            found = self.dav.multiget(target.name, [r.key for r in chunk])
            for ref in chunk:
                got = found.get(ref.key) if found is not None else self.dav.get(ref.key)
                if got is None:
                    continue  # deleted since the listing: the next listing says so
                etag, data = got
                yield RawItem(replace(ref, version=etag or ref.version), data, "text/calendar", size=len(data))

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        return sleep_wait(self.stop, timeout)

    def stats(self, target: TargetRef) -> dict:
        """For `accounts test`: what the server says of the calendar."""
        collection = self.dav.state(target.name)
        return {"display": collection.display, "sync_token": bool(collection.sync_token), "ctag": bool(collection.ctag)}

    def close(self) -> None:
        self._pages.clear()
        self.dav.close()


def _first_after(entries: list[str], after: str) -> int:
    return next((i for i, e in enumerate(entries) if e > after), len(entries))


def _last_segment(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _names(collection: Collection) -> set[str]:
    return {collection.display, collection.path, collection.path.strip("/"), _last_segment(collection.path)} - {""}
