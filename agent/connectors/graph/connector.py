"""The Microsoft 365 connector (``kind = "m365"``): mail by per-folder message delta, meetings by calendarView delta.

Listing
    Mail: ``GET {user}/mailFolders/{id}/messages/delta``, one page per ``list_changes`` call; the cursor holds the
    ``@odata.nextLink`` while a round pages, then the ``@odata.deltaLink``. Removed messages come back as
    ``@removed`` and are reported as deletes. Calendar: ``{user}/calendarView/delta`` over a window starting
    ``calendar_past_days`` before the first sync (kept fixed, so meetings once seen stay listed) and ending
    ``calendar_future_days`` ahead; when the end comes within half that span, a new full round extends it.
    A ``410 Gone`` (expired delta token) raises ``CursorInvalid``: the engine relists everything, idempotently.
Fetching, by visibility (least privilege, see agent.auth.scopes)
    ``metadata`` / ``subject``: the fields a ``Mail.ReadBasic`` token can read (no body) → an RFC 5322 header block
    built from them, with the noise headers copied from ``internetMessageHeaders``. ``snippet`` / ``full``: the
    MIME source, ``/messages/{id}/$value`` (needs ``Mail.Read``), read by the same parser as IMAP mail.
    Meetings: one VEVENT per occurrence, UID = the series' iCalendar UID (the master's ``iCalUId``: Graph gives
    each occurrence its own), RECURRENCE-ID = ``originalStart`` → the identities CalDAV gives the same meeting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import ClassVar

from agent.clock import Clock, SystemClock
from agent.connectors.base import CursorCodec, sleep_wait
from agent.connectors.graph.client import GraphClient
from agent.connectors.graph.documents import header_block, icalendar_document
from agent.connectors.graph.mapping import MESSAGE_FIELDS, event_fields, message_fields, parse_instant
from agent.errors import TemporaryError, UserError
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef, Visibility

WELL_KNOWN_FOLDERS = frozenset({"inbox", "sentitems", "archive", "deleteditems", "drafts", "junkemail", "outbox"})
ROLES = {"inbox": "inbox", "sentitems": "sent"}
CALENDAR = "calendar"


@dataclass(frozen=True)
class DeltaCursor(CursorCodec):
    """Where a delta round stands: ``link`` is a nextLink while ``full`` paging goes on, else the deltaLink."""

    link: str
    full: bool = False
    done: bool = False
    window_start: str = ""  # calendar only: the calendarView window of this delta
    window_end: str = ""


class GraphConnector:
    """Serves one Microsoft 365 mailbox (vocabulary in agent.connectors.base)."""

    kind: ClassVar[str] = "m365"

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
        getter = token or (token_store.access_token_getter(account.name) if token_store is not None else None)
        if getter is None:
            raise UserError(f"account {account.name}: no token source (run crm-agent accounts login {account.name})")
        self.client = GraphClient(
            account.graph_url,
            getter,
            account=account.name,
            timeout=account.timeout,
            ca_file=account.oauth2.ca_file,
            page_size=account.page_size,
        )
        self.user = account.user_path
        self._folder_ids: dict[str, str] = {}
        self._series_uids: dict[str, str] = {}

    # ---------------------------------------------------------------- folders

    def discover(self) -> list[TargetRef]:
        targets = []
        for name in self.account.folders or ["inbox", "sentitems"]:
            folder = self._folder(name)
            targets.append(
                TargetRef(self.name, name, "mail", ROLES.get(name.lower(), "other"), folder.get("displayName", name))
            )
        if self.account.calendar:
            targets.append(TargetRef(self.name, CALENDAR, "calendar", "calendar", "Calendar"))
        return targets

    def _folder(self, name: str) -> dict:
        """A folder by well-known name (``inbox``) or display path (``Clients/Acme``)."""
        if name.lower() in WELL_KNOWN_FOLDERS:
            folder = self.client.get_json(
                f"{self.user}/mailFolders/{name.lower()}", what=f"folder {name}", missing_ok=True
            )
        else:
            folder, level = None, f"{self.user}/mailFolders"
            for part in [p for p in name.split("/") if p]:
                page = self.client.get_json(level, params={"$top": "250"}, what=f"folders of {name}") or {}
                folder = next(
                    (f for f in page.get("value", []) if f.get("displayName", "").casefold() == part.casefold()), None
                )
                if folder is None:
                    break
                level = f"{self.user}/mailFolders/{folder['id']}/childFolders"
        if folder is None:
            raise UserError(
                f"account {self.name}: folder {name!r} not found (use a well-known name such as inbox, "
                "sentitems, archive, or a display path like Clients/Acme)"
            )
        self._folder_ids[name] = folder["id"]
        return folder

    def _folder_id(self, name: str) -> str:
        return self._folder_ids.get(name) or self._folder(name)["id"]

    def stats(self, target: TargetRef) -> dict:
        if target.kind == "calendar":
            return {}
        folder = self._folder(target.name)
        return {"messages": folder.get("totalItemCount")}

    # ---------------------------------------------------------------- listing

    def probe(self, target: TargetRef, cursor: str) -> bool:
        """One delta request with the stored deltaLink (Graph lets a delta token be read again)."""
        state = DeltaCursor.from_json(cursor)
        if state is None or not state.done or (target.kind == "calendar" and self._window_due(state)):
            return True
        page = self.client.get_json(state.link, what=f"checking {target.label}", page_size=1) or {}
        return bool(page.get("value"))

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        state = DeltaCursor.from_json(cursor)
        window = ("", "")
        if target.kind == "calendar":
            if state is None or (state.done and self._window_due(state)):
                window = self._window(state)
                url, params, full = (
                    f"{self.user}/calendarView/delta",
                    {"startDateTime": window[0], "endDateTime": window[1]},
                    True,
                )
            else:
                url, params, full, window = state.link, None, state.full, (state.window_start, state.window_end)
        elif state is None:
            url, full = f"{self.user}/mailFolders/{self._folder_id(target.name)}/messages/delta", True
            params = {"$select": "changeKey,receivedDateTime"}
            if self.since is not None:
                params["$filter"] = f"receivedDateTime ge {self.since.isoformat()}T00:00:00Z"
        else:
            url, params, full = state.link, None, state.full
        page = (
            self.client.get_json(
                url, params=params, what=f"listing {target.label}", page_size=max(1, min(limit, self.account.page_size))
            )
            or {}
        )
        upserts, deletes = [], []
        for item in page.get("value", []):
            if not item.get("id"):
                continue
            location = f"{self.name}/{target.name}/{item['id']}"
            if "@removed" in item:
                deletes.append(location)
            else:
                upserts.append(ItemRef(location, item["id"], item.get("changeKey", "")))
        if page.get("@odata.nextLink"):
            next_state, more = DeltaCursor(page["@odata.nextLink"], full, False, *window), True
        elif page.get("@odata.deltaLink"):
            next_state, more = DeltaCursor(page["@odata.deltaLink"], False, True, *window), False
        else:
            raise TemporaryError(f"account {self.name}: listing {target.label}: answer without nextLink or deltaLink")
        return ChangeSet(tuple(upserts), tuple(deletes), next_state.to_json(), more=more, is_full=full)

    def _window(self, state: DeltaCursor | None) -> tuple[str, str]:
        now = self.clock.now()
        if state is not None and state.window_start:
            start = state.window_start  # fixed at the first sync: meetings once seen stay in the listing
        else:
            first = self.since or (now - timedelta(days=self.account.calendar_past_days)).date()
            start = datetime.combine(first, time.min, tzinfo=UTC).isoformat()
        end = datetime.combine((now + timedelta(days=self.account.calendar_future_days)).date(), time.min, tzinfo=UTC)
        return start, end.isoformat()

    def _window_due(self, state: DeltaCursor) -> bool:
        """The window's end is nearer than half the configured future span: extend it with a new round."""
        end = parse_instant(state.window_end)
        return end is None or end - self.clock.now() < timedelta(days=self.account.calendar_future_days / 2)

    # ---------------------------------------------------------------- fetching

    def fetch(self, target: TargetRef, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        if target.kind == "calendar":
            yield from self._fetch_events(refs)
            return
        basic = self.account.visibility in (Visibility.METADATA, Visibility.SUBJECT)
        for ref in refs:
            if basic:
                message = self.client.get_json(
                    f"{self.user}/messages/{ref.key}",
                    params={"$select": ",".join(MESSAGE_FIELDS)},
                    what="reading a message",
                    missing_ok=True,
                )
                if message is None:
                    continue
                data = header_block(message_fields(message))
                received = parse_instant(message.get("receivedDateTime"))
            else:
                data = self.client.get_bytes(f"{self.user}/messages/{ref.key}/$value", what="reading a message")
                if data is None:
                    continue
                received = None
            yield RawItem(ref, data, received_at=received, size=len(data))

    def _fetch_events(self, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        full = self.account.visibility == Visibility.FULL
        for ref in refs:
            event = self.client.get_json(f"{self.user}/events/{ref.key}", what="reading an event", missing_ok=True)
            if event is None or event.get("type") == "seriesMaster":
                continue  # a calendar view lists occurrences; a master has no slot of its own
            fields = event_fields(event, self._uid(event), with_description=full)
            if fields is not None:
                data = icalendar_document([fields])
                yield RawItem(ref, data, media_type="text/calendar", size=len(data))

    def _uid(self, event: dict) -> str:
        """The series' iCalendar UID: ``uid`` when Graph gives it, else the master's ``iCalUId``, else the event's."""
        if event.get("uid"):
            return event["uid"]
        master_id = event.get("seriesMasterId")
        if not master_id:
            return event.get("iCalUId") or event["id"]
        if master_id not in self._series_uids:
            master = (
                self.client.get_json(
                    f"{self.user}/events/{master_id}",
                    params={"$select": "iCalUId"},
                    what="reading a meeting series",
                    missing_ok=True,
                )
                or {}
            )
            self._series_uids[master_id] = master.get("uid") or master.get("iCalUId") or master_id
        return self._series_uids[master_id]

    # ---------------------------------------------------------------- push / lifecycle

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        return sleep_wait(self.stop, timeout)

    def close(self) -> None:
        self.client.close()
