"""The on-premises Exchange connector (``kind = "ews"``): SyncFolderItems listing, GetItem fetching, exchangelib.

Listing
    One ``SyncFolderItems`` round trip per ``list_changes`` call (at most ``limit`` changes, ≤ 512 as EWS
    allows). The SyncState comes with the answer only once its change generator has been consumed whole, so a page
    is read to the end before the cursor is written. ``IncludesLastItemInRange`` false means more pages follow.
    Creates and updates are listed, deletes reported, read-flag changes ignored. ``ErrorInvalidSyncStateData``
    raises ``CursorInvalid`` (the engine relists everything; writes are idempotent). The calendar folder lists
    single meetings and recurring masters; the cursor also holds the window (start fixed at the first sync, end
    ``calendar_future_days`` ahead, extended by a new full listing when it comes within half that span), and each
    ref's key carries it, so ``fetch`` expands series over the same window.
Fetching: see agent.connectors.ews.items (MimeContent or a header block by visibility; iCalendar for meetings).
Throttling: ``ErrorServerBusy`` → ``TemporaryError`` with the server's BackOffMilliseconds (no sleeping here).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import ClassVar

from exchangelib import EWSDateTime
from exchangelib.folders import Calendar, Inbox, SentItems
from exchangelib.services import SyncFolderItems

from agent.clock import Clock, SystemClock
from agent.connectors.base import CursorCodec, sleep_wait
from agent.connectors.ews import items as ews_items
from agent.connectors.ews.session import classified, open_account
from agent.connectors.graph.documents import icalendar_document
from agent.errors import UserError
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef, Visibility

DISTINGUISHED = {"inbox": (Inbox, "inbox", "Inbox"), "sentitems": (SentItems, "sent", "Sent Items")}
CALENDAR = "calendar"
MAX_CHANGES = 512  # the most SyncFolderItems returns in one answer


@dataclass(frozen=True)
class EwsCursor(CursorCodec):
    state: str
    full: bool = False  # a full listing is still paging
    window_start: str = ""  # calendar only
    window_end: str = ""


class EwsConnector:
    """Serves one Exchange mailbox (vocabulary in agent.connectors.base). One thread at a time."""

    kind: ClassVar[str] = "ews"

    def __init__(
        self,
        account,
        *,
        token_store=None,
        token=None,
        stop: threading.Event | None = None,
        clock: Clock | None = None,
        since=None,
    ) -> None:
        self.account = account
        self.name = account.name
        self.stop = stop or threading.Event()
        self.clock = clock or SystemClock()
        self.since = since or account.since
        self._token = token or (
            token_store.access_token_getter(account.name) if token_store and account.auth == "oauth2" else None
        )
        self._ews = None
        self._folders: dict[str, object] = {}
        self._where = f"account {account.name}"

    # ---------------------------------------------------------------- connection and folders

    @property
    def ews(self):
        if self._ews is None:
            with classified(self._where):
                self._ews = open_account(self.account, token=self._token)
        return self._ews

    def _folder(self, name: str):
        if name not in self._folders:
            with classified(f"{self._where}: opening folder {name}"):
                if name == CALENDAR:
                    self._folders[name] = self.ews.root.get_default_folder(Calendar)
                elif name.lower() in DISTINGUISHED:
                    self._folders[name] = self.ews.root.get_default_folder(DISTINGUISHED[name.lower()][0])
                else:
                    folder = self.ews.msg_folder_root
                    for part in [p for p in name.split("/") if p]:
                        folder = next(
                            (c for c in folder.children if (c.name or "").casefold() == part.casefold()), None
                        )
                        if folder is None:
                            raise UserError(f"{self._where}: folder {name!r} not found below the mailbox root")
                    self._folders[name] = folder
        return self._folders[name]

    def discover(self) -> list[TargetRef]:
        targets = []
        for name in self.account.folders or ["inbox", "sentitems"]:
            folder = self._folder(name)
            role = DISTINGUISHED.get(name.lower(), (None, "other"))[1]
            targets.append(TargetRef(self.name, name, "mail", role, getattr(folder, "name", None) or name))
        if self.account.calendar:
            self._folder(CALENDAR)
            targets.append(TargetRef(self.name, CALENDAR, "calendar", "calendar", "Calendar"))
        return targets

    def stats(self, target: TargetRef) -> dict:
        with classified(f"{self._where}: {target.label}"):
            return {"messages": self._folder(target.name).total_count}

    # ---------------------------------------------------------------- listing

    def _sync_page(self, target: TargetRef, state: str | None, limit: int) -> tuple[list, str, bool]:
        """One SyncFolderItems answer: (changes, new state, includes last). The generator is read to its end first."""
        service = SyncFolderItems(account=self.ews)
        changes = list(
            service.call(
                folder=self._folder(target.name),
                shape="IdOnly",
                additional_fields=set(),
                sync_state=state,
                ignore=None,
                max_changes_returned=limit,
                sync_scope=None,
            )
        )
        stuck = (
            service.sync_state == state and not service.includes_last_item_in_range
        )  # exchangelib notes this happens
        return changes, service.sync_state, bool(service.includes_last_item_in_range) or stuck

    def probe(self, target: TargetRef, cursor: str) -> bool:
        state = EwsCursor.from_json(cursor)
        if state is None or state.full or (target.kind == "calendar" and self._window_due(state)):
            return True
        with classified(f"{self._where}: checking {target.label}"):
            changes, _, last = self._sync_page(target, state.state, 1)
        return bool([c for c in changes if c[0] != SyncFolderItems.READ_FLAG_CHANGE]) or not last

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        state = EwsCursor.from_json(cursor)
        window = (state.window_start, state.window_end) if state else ("", "")
        if target.kind == "calendar" and (state is None or (not state.full and self._window_due(state))):
            window, state = self._window(state), None  # a new full listing over the extended window
        full = state is None or state.full
        with classified(f"{self._where}: listing {target.label}"):
            changes, new_state, last = self._sync_page(
                target, state.state if state else None, max(1, min(limit, MAX_CHANGES))
            )
        upserts, deletes = [], []
        for change_type, item in changes:
            if change_type == SyncFolderItems.DELETE:
                deletes.append(self._location(target, item.id))
            elif change_type in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE) and getattr(item, "id", None):
                key = item.id if target.kind != "calendar" else f"{item.id}|{window[0]}|{window[1]}"
                upserts.append(ItemRef(self._location(target, item.id), key, item.changekey or ""))
        next_state = EwsCursor(new_state, full and not last, *window)
        return ChangeSet(tuple(upserts), tuple(deletes), next_state.to_json(), more=not last, is_full=full)

    def _location(self, target: TargetRef, item_id: str) -> str:
        return f"{self.name}/{target.name}/{item_id}"

    def _window(self, state: EwsCursor | None) -> tuple[str, str]:
        now = self.clock.now()
        if state is not None and state.window_start:
            start = state.window_start
        else:
            first = self.since or (now - timedelta(days=self.account.calendar_past_days)).date()
            start = datetime.combine(first, time.min, tzinfo=UTC).isoformat()
        end = datetime.combine((now + timedelta(days=self.account.calendar_future_days)).date(), time.min, tzinfo=UTC)
        return start, end.isoformat()

    def _window_due(self, state: EwsCursor) -> bool:
        try:
            end = datetime.fromisoformat(state.window_end)
        except ValueError:
            return True
        return end - self.clock.now() < timedelta(days=self.account.calendar_future_days / 2)

    # ---------------------------------------------------------------- fetching

    def fetch(self, target: TargetRef, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        refs = list(refs)
        if not refs:
            return
        if target.kind == "calendar":
            yield from self._fetch_meetings(refs)
            return
        visibility = self.account.visibility
        with classified(f"{self._where}: fetching from {target.label}"):
            fetched = list(
                self.ews.fetch(
                    ids=[(ref.key, None) for ref in refs], only_fields=list(ews_items.mail_fields_for(visibility))
                )
            )
        for ref, item in zip(refs, fetched, strict=True):
            if isinstance(item, Exception):
                continue  # ErrorItemNotFound: gone since it was listed
            data = ews_items.message_bytes(item, visibility)
            received = getattr(item, "datetime_received", None)
            yield RawItem(ref, data, received_at=ews_items.utc(received) if received else None, size=len(data))

    def _fetch_meetings(self, refs: list[ItemRef]) -> Iterator[RawItem]:
        with classified(f"{self._where}: fetching meetings"):
            fields = list(ews_items.CALENDAR_FIELDS) + (
                ["text_body"] if self.account.visibility == Visibility.FULL else []
            )
            fetched = list(self.ews.fetch(ids=[(ref.key.split("|")[0], None) for ref in refs], only_fields=fields))
            views: dict[tuple[str, str], list] = {}
            for ref, item in zip(refs, fetched, strict=True):
                if isinstance(item, Exception):
                    continue
                events = self._meeting_events(item, ref, views)
                data = icalendar_document(e for e in events if e is not None)
                yield RawItem(ref, data, media_type="text/calendar", size=len(data))

    def _meeting_events(self, item, ref: ItemRef, views: dict) -> list:
        uid = item.uid or item.id
        description = (getattr(item, "text_body", None) or "") if self.account.visibility == Visibility.FULL else ""
        if item.type != "RecurringMaster":
            original = item.original_start if item.type in ("Occurrence", "Exception") else None
            return [ews_items.event_fields(item, uid=uid, recurrence_id=original, description=description)]
        _, start, end = (ref.key.split("|") + ["", ""])[:3]
        window = (start, end) if start and end else self._window(None)
        if window not in views:  # one CalendarView per window per fetch: Exchange expands every series in it
            view = self.ews.calendar.view(
                start=EWSDateTime.from_datetime(datetime.fromisoformat(window[0])),
                end=EWSDateTime.from_datetime(datetime.fromisoformat(window[1])),
            )
            views[window] = list(view.only(*ews_items.VIEW_FIELDS))
        instances = [i for i in views[window] if i.uid == item.uid and i.type in ("Occurrence", "Exception")]
        exceptions = [i.id for i in instances if i.type == "Exception"]
        details = (
            {
                e.id: e
                for e in self.ews.fetch(
                    ids=[(i, None) for i in exceptions], only_fields=list(ews_items.CALENDAR_FIELDS)
                )
                if not isinstance(e, Exception)
            }
            if exceptions
            else {}
        )
        events = []
        for instance in instances:
            source = details.get(instance.id, instance)
            original = ews_items.occurrence_original_start(source, item)
            events.append(ews_items.event_fields(source, uid=uid, base=item, recurrence_id=original))
        return events

    # ---------------------------------------------------------------- push / lifecycle

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        return sleep_wait(self.stop, timeout)

    def close(self) -> None:
        if self._ews is not None:
            try:
                self._ews.protocol.close()
            except Exception:  # closing pooled sessions of a dead server: nothing to report
                pass
        self._ews = None
        self._folders.clear()
