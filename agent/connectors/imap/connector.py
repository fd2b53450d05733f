"""The IMAP connector: read-only incremental sync of INBOX and Sent, with IDLE push on a second connection.

Listing (see ImapCursor):
- first pass: ``UID SEARCH`` pages through every UID (``since`` limits what is imported, not what is known);
- later passes: nothing to do when HIGHESTMODSEQ and UIDNEXT are unchanged (one EXAMINE); otherwise new UIDs
  are those above the last one, and deletions are found by comparing the present UIDs with the stored set
  only when the message count says something disappeared;
- a different UIDVALIDITY raises ``CursorInvalid``: the engine relists everything, without duplicates, since
  identity is the Message-ID, not the UID.
Nothing here changes a flag: every read is ``BODY.PEEK`` on a folder opened with EXAMINE.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import ClassVar

from imapclient import IMAPClient

from agent.connectors.imap.cursor import ImapCursor, compact, expand
from agent.connectors.imap.fetching import HEADERS_AND_TEXT, HEADERS_ONLY, parse_fetch_response, uid_batches
from agent.connectors.imap.folders import choose_targets
from agent.connectors.imap.session import classified, close_client, open_client
from agent.errors import CursorInvalid, TemporaryError
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef, Visibility

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ImapConnector:
    """Serves one IMAP account (vocabulary in agent.connectors.base)."""

    kind: ClassVar[str] = "imap"

    def __init__(self, account, *, stop: threading.Event | None = None, since: date | None = None,
                 token_store=None, fetch_batch: int = 2000) -> None:
        self.account = account
        self.name = account.name
        self.stop = stop or threading.Event()
        self.since = since
        self.fetch_batch = fetch_batch
        self._token: Callable[[], str] | None = token_store.access_token_getter(account.name) if token_store else None
        self._client: IMAPClient | None = None
        self._idle: IMAPClient | None = None
        self._idle_folder: str | None = None
        self._selected: str | None = None
        self._where = f"account {account.name}"
        visibility = getattr(account, "visibility", Visibility.SNIPPET)
        self._fetch_items = HEADERS_ONLY if visibility in (Visibility.METADATA, Visibility.SUBJECT) else HEADERS_AND_TEXT

    # ---------------------------------------------------------------- connection

    def _conn(self) -> IMAPClient:
        if self._client is None:
            self._client = open_client(self.account, token=self._token)
            self._selected = None
        return self._client

    def _drop(self) -> None:
        if self._client is not None:
            close_client(self._client)
        self._client = None
        self._selected = None

    def _examine(self, folder: str) -> dict:
        client = self._conn()
        info = client.select_folder(folder, readonly=True)
        self._selected = folder
        return info

    def _refresh(self, folder: str) -> None:
        if self._selected == folder:
            self._conn().noop()
        else:
            self._examine(folder)

    def _call(self, what: str, work):
        """Run ``work(client)``, classify failures, and drop the connection after a failure."""
        try:
            with classified(f"{self._where}: {what}"):
                return work()
        except TemporaryError:
            self._drop()
            raise

    def _uid_search(self, criteria: str) -> list[int]:
        typ, data = self._conn()._imap.uid("SEARCH", criteria)
        if typ != "OK":
            raise TemporaryError(f"{self._where}: UID SEARCH {criteria} failed: {data!r}")
        return sorted(int(x) for chunk in data if chunk for x in chunk.split())

    # ---------------------------------------------------------------- protocol

    def discover(self) -> list[TargetRef]:
        listing = self._call("LIST", lambda: self._conn().list_folders())
        return choose_targets(self.name, listing, self.account.folders)

    def stats(self, target: TargetRef) -> dict:
        info = self._call("STATUS", lambda: self._status(target.name, ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]))
        return {k.decode().lower(): v for k, v in info.items()}

    def _status(self, folder: str, items: list[str]) -> dict:
        client = self._conn()
        if self._selected is not None:  # STATUS of the selected folder may show the session's stale view
            client.unselect_folder()
            self._selected = None
        return client.folder_status(folder, items)

    def probe(self, target: TargetRef, cursor: str) -> bool:
        state = ImapCursor.from_json(cursor)
        if state is None or state.listing:
            return True
        items = ["UIDNEXT", "UIDVALIDITY", "MESSAGES"] + (["HIGHESTMODSEQ"] if state.modseq else [])
        info = self._call("STATUS", lambda: self._status(target.name, items))
        if info.get(b"UIDVALIDITY") != state.uidvalidity or info.get(b"UIDNEXT") != state.uidnext:
            return True
        if state.modseq:
            return info.get(b"HIGHESTMODSEQ") != state.modseq
        return info.get(b"MESSAGES") != len(expand(state.uids))

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        state = ImapCursor.from_json(cursor)
        return self._call(f"listing {target.name}", lambda: self._list(target, state, limit))

    def _list(self, target: TargetRef, state: ImapCursor | None, limit: int) -> ChangeSet:
        if state is not None and state.listing and state.listing_uidnext and self._selected == target.name:
            # the next page of a full listing on the folder this session holds open, whose UIDVALIDITY cannot
            # change under it: a re-EXAMINE would make Dovecot re-scan the whole maildir for every page
            self._conn().noop()
            return self._list_full(target, state, state.uidvalidity, state.start_modseq, state.listing_uidnext,
                                   exists=None, limit=limit)
        info = self._examine(target.name)
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        modseq = int(info.get(b"HIGHESTMODSEQ", 0) or 0)
        uidnext = int(info.get(b"UIDNEXT", 0) or 0)
        exists = int(info.get(b"EXISTS", 0))
        if state is not None and state.uidvalidity != uidvalidity:
            raise CursorInvalid(f"{target.name}: UIDVALIDITY changed from {state.uidvalidity} to {uidvalidity}")
        if state is None or state.listing:
            return self._list_full(target, state, uidvalidity, modseq, uidnext, exists, limit)
        if (modseq and modseq == state.modseq and uidnext == state.uidnext) or (
            not modseq and uidnext == state.uidnext and exists == len(expand(state.uids))
        ):
            return ChangeSet((), (), state.to_json())
        new = [u for u in (self._uid_search(f"UID {state.last_uid + 1}:*") if exists else []) if u > state.last_uid]
        page, more = new[:limit], len(new) > limit
        known = expand(state.uids)
        deletes: tuple[str, ...] = ()
        if exists - len(new) != len(known):
            present = set(self._uid_search(f"UID 1:{state.last_uid}")) if state.last_uid and exists else set()
            deletes = tuple(self._location(target, uidvalidity, uid) for uid in sorted(known - present))
            known &= present
        known.update(page)
        done = not more
        next_state = ImapCursor(
            uidvalidity=uidvalidity,
            last_uid=page[-1] if page else state.last_uid,
            modseq=modseq if done else state.modseq,
            uidnext=uidnext if done else state.uidnext,
            uids=compact(known),
        )
        refs = tuple(ItemRef(self._location(target, uidvalidity, uid), str(uid)) for uid in page)
        return ChangeSet(refs, deletes, next_state.to_json(), more=more)

    def _list_full(self, target, state, uidvalidity, modseq, uidnext, exists, limit) -> ChangeSet:
        after = state.last_uid if state else 0
        start_modseq = state.start_modseq if state else modseq
        # exists is None when the folder was not re-opened (a continued listing): search then
        present = [u for u in (self._uid_search(f"UID {after + 1}:*") if exists != 0 else []) if u > after]
        page, more = present[:limit], len(present) > limit
        wanted = set(page)
        if self.since is not None and page:
            day = f"{self.since.day}-{_MONTHS[self.since.month - 1]}-{self.since.year}"
            wanted &= set(self._uid_search(f"UID {page[0]}:{page[-1]} SINCE {day}"))
        known = (expand(state.uids) if state else set()) | set(page)
        next_state = ImapCursor(
            uidvalidity=uidvalidity,
            last_uid=page[-1] if page else after,
            modseq=0 if more else start_modseq,
            uidnext=0 if more else uidnext,
            uids=compact(known),
            listing=more,
            start_modseq=start_modseq if more else 0,
            listing_uidnext=uidnext if more else 0,
        )
        refs = tuple(ItemRef(self._location(target, uidvalidity, uid), str(uid)) for uid in page if uid in wanted)
        return ChangeSet(refs, (), next_state.to_json(), more=more, is_full=True)

    def _location(self, target: TargetRef, uidvalidity: int, uid: int) -> str:
        return f"{self.name}/{target.name}/{uidvalidity}/{uid}"

    def fetch(self, target: TargetRef, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        by_uid = {int(ref.key): ref for ref in refs}
        if not by_uid:
            return
        batches = list(uid_batches(sorted(by_uid), self.fetch_batch))
        # catch up first (NOOP on the open folder: cheap, unlike a re-EXAMINE, which makes Dovecot re-scan a big
        # maildir): the session then knows about expunges made by other clients since the listing
        self._call(f"opening {target.name}", lambda: self._refresh(target.name))
        for uid_set in batches:
            fetched = self._call(f"fetching from {target.name}", lambda s=uid_set: self._fetch_set(target.name, s))
            for item in fetched:
                ref = by_uid.get(item.uid)
                if ref is not None:  # an expunged UID is simply absent from the answer
                    yield RawItem(ref, item.data, received_at=item.internal_date, size=item.size)

    def _fetch_set(self, folder: str, uid_set: str) -> list:
        if self._selected != folder:
            self._examine(folder)
        typ, data = self._conn()._imap.uid("FETCH", uid_set, self._fetch_items)
        if typ != "OK":
            raise TemporaryError(f"UID FETCH failed: {data!r}")
        return list(parse_fetch_response(data))

    # ---------------------------------------------------------------- push

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        """IDLE on a second connection (the first stays free for fetching); True when the server reported a change."""
        deadline = time.monotonic() + timeout
        try:
            with classified(f"{self._where}: IDLE on {target.name}"):
                if self._idle is None or self._idle_folder != target.name:
                    self._close_idle()
                    self._idle = open_client(self.account, token=self._token)
                    self._idle.select_folder(target.name, readonly=True)
                    self._idle_folder = target.name
                if b"IDLE" not in self._idle.capabilities():
                    self.stop.wait(timeout)
                    return True
                self._idle.idle()
                quick_empty = 0
                try:
                    while not self.stop.is_set():
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return False
                        # short checks so a stop request is noticed within a second
                        wait = min(1.0, remaining)
                        started = time.monotonic()
                        responses = self._idle.idle_check(timeout=wait)
                        if any(len(r) > 1 and r[1] in (b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED") for r in responses):
                            return True
                        # imapclient swallows EOF and returns nothing at once: a closed connection would spin here
                        quick_empty = quick_empty + 1 if not responses and time.monotonic() - started < wait / 2 else 0
                        if quick_empty >= 3:
                            raise TemporaryError(f"{self._where}: IDLE connection closed by the server")
                    return False
                finally:
                    self._idle.idle_done()
        except TemporaryError:
            self._close_idle()
            raise

    def _close_idle(self) -> None:
        if self._idle is not None:
            close_client(self._idle)
        self._idle = None
        self._idle_folder = None

    def close(self) -> None:
        self._close_idle()
        self._drop()
