"""What a dropped file holds: its kind by suffix, its content hash, and its items as RawItems (pure: no store).

A file that cannot be what its suffix says raises ``Rejected`` with one line saying why; the importer moves it to
``rejected/`` with that line in a ``.reason`` file beside it.
"""

from __future__ import annotations

import email
import hashlib
import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.records import ItemRef, RawItem

KINDS = {".eml": "eml", ".mbox": "mbox", ".ics": "ics", ".vcf": "vcf", ".csv": "csv"}
#: Names browsers, editors and copy tools give a file while they write it.
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart", ".swp", "~")
_MAIL_HEADERS = ("from", "to", "message-id", "date", "subject")


class Rejected(Exception):
    """The file is not what its name says (or is empty); ``str`` is the reason shown to the person."""


@dataclass(frozen=True, slots=True)
class DroppedItems:
    kind: str  # eml | mbox | ics | vcf | csv
    content_hash: str
    raws: tuple[RawItem, ...] = ()  # empty for contact files (imported through the contacts importer)


def file_kind(path: Path) -> str | None:
    return KINDS.get(path.suffix.lower())


def is_candidate(path: Path) -> bool:
    """A file the drop folder should look at: not hidden, not a partial download, not a .reason file."""
    name = path.name
    if name.startswith((".", "~$")) or name.endswith(".reason"):
        return False
    return not name.lower().endswith(PARTIAL_SUFFIXES)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_items(path: Path, data: bytes, account: str) -> DroppedItems:
    """The items of a dropped file; raises Rejected when the file cannot be one of the supported kinds."""
    kind = file_kind(path)
    if kind is None:
        supported = ", ".join(sorted(KINDS))
        raise Rejected(f"unsupported file type {path.suffix or '(no extension)'!r}: the drop folder takes {supported}")
    if not data.strip():
        raise Rejected("the file is empty")
    digest = content_hash(data)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else None
    location = f"{account}/{digest[:32]}"
    if kind == "eml":
        _check_mail(data)
        return DroppedItems(kind, digest, (RawItem(ItemRef(location, digest, digest[:16]), data, received_at=mtime,
                                                   size=len(data)),))
    if kind == "mbox":
        messages = _mbox_messages(path)
        if not messages:
            raise Rejected("no message found: an mbox file starts each message with a 'From ' line")
        raws = tuple(RawItem(ItemRef(f"{location}/{n}", f"{digest}/{n}", digest[:16]), message, received_at=mtime,
                             size=len(message))
                     for n, message in enumerate(messages, start=1))
        return DroppedItems(kind, digest, raws)
    if kind == "ics":
        if b"BEGIN:VCALENDAR" not in data[:4096].upper() and b"BEGIN:VEVENT" not in data.upper():
            raise Rejected("not an iCalendar file: no BEGIN:VCALENDAR")
        return DroppedItems(kind, digest, (RawItem(ItemRef(location, digest, digest[:16]), data, "text/calendar",
                                                   received_at=mtime, size=len(data)),))
    return DroppedItems(kind, digest)


def _check_mail(data: bytes) -> None:
    head = data[:65536]
    message = email.message_from_bytes(head)
    if not any(message.get(name) for name in _MAIL_HEADERS) or message.defects and not message.keys():
        raise Rejected("not an email: none of the headers From, To, Date, Subject or Message-ID")


def _mbox_messages(path: Path) -> list[bytes]:
    box = mailbox.mbox(path, create=False)
    try:
        return [message.as_bytes() for message in box if message.keys()]
    finally:
        box.close()
