"""The mailbox behind the EWS and Graph protocol servers: folders, messages (from RFC 5322 bytes) and events.

Both servers translate this one model into their protocol, so the same test data reaches both connectors. Every
change bumps a global sequence number and the item's change key; each folder has an ``epoch`` that
``invalidate`` bumps, which makes the server refuse sync states / delta tokens issued before (what a mailbox
move or a server-side reset does).
"""

from __future__ import annotations

import email
import email.policy
import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime

WELL_KNOWN = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "calendar": "Calendar",
    "msgfolderroot": "Top of Information Store",
}


def new_id(prefix: str = "AAMkAG") -> str:
    return f"{prefix}{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}="


@dataclass
class Folder:
    id: str
    name: str
    well_known: str | None = None
    parent: str | None = None
    kind: str = "mail"
    epoch: int = 0


@dataclass
class StoredMessage:
    id: str
    folder: str
    raw: bytes
    change: int = 1
    created: int = 0

    @property
    def change_key(self) -> str:
        return f"CQAAAB{self.change:08d}"

    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def header(self, name: str) -> str:
        value = self.parsed().get(name)
        return str(value) if value is not None else ""

    def addresses(self, name: str) -> list[tuple[str, str]]:
        values = [str(v) for v in self.parsed().get_all(name) or []]
        return [(n, a) for n, a in getaddresses(values) if a]

    def date(self) -> datetime:
        try:
            return parsedate_to_datetime(self.header("Date")).astimezone(UTC)
        except (TypeError, ValueError):
            return datetime(2026, 1, 1, tzinfo=UTC)

    def text(self) -> str:
        body = self.parsed().get_body(("plain",))
        return body.get_content() if body is not None else ""

    def header_pairs(self) -> list[tuple[str, str]]:
        return [(k, str(v)) for k, v in self.parsed().items()]


@dataclass
class Attendee:
    address: str
    name: str = ""
    required: bool = True
    response: str = "Unknown"  # EWS ResponseType: Unknown, Organizer, Tentative, Accept, Decline, NoResponseReceived


@dataclass
class Instance:
    """One occurrence of a series (or a single event) as a calendar view shows it."""

    id: str
    event: StoredEvent
    start: datetime
    end: datetime
    original_start: datetime | None
    kind: str  # "Single" | "Occurrence" | "Exception"
    subject: str
    location: str


@dataclass
class StoredEvent:
    id: str
    uid: str
    subject: str
    start: datetime
    end: datetime
    organizer: Attendee
    attendees: list[Attendee] = field(default_factory=list)
    location: str = ""
    body: str = ""
    all_day: bool = False
    cancelled: bool = False
    every_days: int = 0  # > 0: a series repeating every N days
    count: int = 0
    overrides: dict[datetime, dict] = field(default_factory=dict)  # original start -> {"start","end","subject"}
    deleted: set[datetime] = field(default_factory=set)  # original starts removed from the series
    change: int = 1
    created: int = 0
    folder: str = ""

    @property
    def change_key(self) -> str:
        return f"DwAAAB{self.change:08d}"

    @property
    def is_series(self) -> bool:
        return self.every_days > 0

    def occurrence_id(self, original: datetime) -> str:
        return f"{self.id}_OCC_{original.strftime('%Y%m%dT%H%M%S')}"

    def instances(self, window_start: datetime, window_end: datetime) -> list[Instance]:
        if not self.is_series:
            if self.end > window_start and self.start < window_end:
                return [Instance(self.id, self, self.start, self.end, None, "Single", self.subject, self.location)]
            return []
        out = []
        for index in range(self.count):
            original = self.start + timedelta(days=index * self.every_days)
            if original in self.deleted:
                continue
            override = self.overrides.get(original, {})
            start = override.get("start", original)
            end = override.get("end", start + (self.end - self.start))
            if end > window_start and start < window_end:
                out.append(
                    Instance(
                        self.occurrence_id(original),
                        self,
                        start,
                        end,
                        original,
                        "Exception" if override else "Occurrence",
                        override.get("subject", self.subject),
                        override.get("location", self.location),
                    )
                )
        return out


class Mailbox:
    """Thread-safe: the servers answer from their own threads while tests change the data."""

    def __init__(self, owner: str = "claire@atelier-durand.fr") -> None:
        self.owner = owner
        self.lock = threading.RLock()
        self.folders: dict[str, Folder] = {}
        self.messages: dict[str, StoredMessage] = {}
        self.events: dict[str, StoredEvent] = {}
        self._seq = itertools.count(1)
        root = self.add_folder("Top of Information Store", well_known="msgfolderroot")
        for well_known in ("inbox", "sentitems"):
            self.add_folder(WELL_KNOWN[well_known], well_known=well_known, parent=root.id)
        self.add_folder("Calendar", well_known="calendar", parent=root.id, kind="calendar")

    # ---- folders ----------------------------------------------------------------------------------------------
    def add_folder(
        self, name: str, *, well_known: str | None = None, parent: str | None = None, kind: str = "mail"
    ) -> Folder:
        with self.lock:
            folder = Folder(new_id("AQMkAD"), name, well_known, parent, kind)
            self.folders[folder.id] = folder
            return folder

    def folder(self, ref: str) -> Folder | None:
        """By id or well-known name."""
        with self.lock:
            if ref in self.folders:
                return self.folders[ref]
            return next((f for f in self.folders.values() if f.well_known == ref.lower()), None)

    def children(self, folder_id: str) -> list[Folder]:
        return [f for f in self.folders.values() if f.parent == folder_id]

    def invalidate(self, folder_ref: str) -> None:
        with self.lock:
            folder = self.folder(folder_ref)
            assert folder is not None
            folder.epoch += 1

    # ---- messages ---------------------------------------------------------------------------------------------
    def add_messages(self, folder_ref: str, raws: list[bytes]) -> list[str]:
        with self.lock:
            folder = self.folder(folder_ref)
            assert folder is not None, folder_ref
            ids = []
            for raw in raws:
                message = StoredMessage(new_id(), folder.id, raw, created=next(self._seq))
                self.messages[message.id] = message
                ids.append(message.id)
            return ids

    def in_folder(self, folder_id: str) -> list[StoredMessage]:
        with self.lock:
            return sorted((m for m in self.messages.values() if m.folder == folder_id), key=lambda m: m.created)

    def delete_messages(self, folder_ref: str, count: int) -> list[str]:
        with self.lock:
            folder = self.folder(folder_ref)
            assert folder is not None
            gone = [m.id for m in self.in_folder(folder.id)[:count]]
            for message_id in gone:
                del self.messages[message_id]
            return gone

    def touch(self, item_id: str) -> None:
        with self.lock:
            item = self.messages.get(item_id) or self.events.get(item_id)
            assert item is not None
            item.change += 1

    # ---- events -----------------------------------------------------------------------------------------------
    def add_event(self, **values) -> StoredEvent:
        with self.lock:
            calendar = self.folder("calendar")
            assert calendar is not None
            values.setdefault("organizer", Attendee(self.owner, "Claire Durand", response="Organizer"))
            event = StoredEvent(id=new_id("AAMkAE"), created=next(self._seq), folder=calendar.id, **values)
            self.events[event.id] = event
            return event

    def update_event(self, event_id: str, **changes) -> None:
        with self.lock:
            event = self.events[event_id]
            for name, value in changes.items():
                setattr(event, name, value)
            event.change += 1

    def delete_event(self, event_id: str) -> None:
        with self.lock:
            del self.events[event_id]

    def find_instance(self, instance_id: str) -> Instance | None:
        """A single event, a master (as its first slot) or one occurrence, by id."""
        with self.lock:
            master_id, _, stamp = instance_id.partition("_OCC_")
            event = self.events.get(master_id)
            if event is None:
                return None
            if not stamp:
                return None
            original = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            far = timedelta(days=3650)
            return next(
                (i for i in event.instances(original - far, original + far) if i.original_start == original), None
            )
