"""The connector protocol: the only contract between a mail or calendar source and the sync engine.

Vocabulary
----------
account
    One configured source (an IMAP mailbox, an Exchange or Microsoft 365 mailbox, a CalDAV server, a local Maildir).
    A connector object serves exactly one account and is used by one thread at a time.
target
    One folder or calendar inside the account (``TargetRef``). ``discover`` finds them.
cursor
    An opaque string the engine stores per target and hands back unchanged. Only the connector reads it: inside,
    it is a typed dataclass with a version field (see ``CursorCodec``). The empty string means "never synced".
location
    Where an item was seen (``ItemRef.location``): unique across all accounts, stable while the item stays put.
    Location is not identity: the same email in INBOX and in a colleague's mailbox has two locations.
change set
    What ``list_changes`` returns: items to (re)fetch, locations deleted, the next cursor, whether more pages
    follow and whether this listing is a full enumeration.

Rules every connector keeps
---------------------------
- Read-only on the server: ``BODY.PEEK``, never a flag change, never a send.
- Errors are classified here, at the edge, into ``TemporaryError``, ``AuthError``, ``CursorInvalid`` and
  ``UserError`` (agent.errors). Nothing else escapes except programming errors.
- No import of ``agent.store``: connectors know nothing of the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from typing import ClassVar, Protocol, TypeVar, runtime_checkable

from agent.errors import CursorInvalid
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef


@runtime_checkable
class Connector(Protocol):
    """A source of items for one account. See the module docstring for the vocabulary."""

    kind: ClassVar[str]

    def discover(self) -> list[TargetRef]:
        """The targets to sync by default (or those the config names)."""

    def probe(self, target: TargetRef, cursor: str) -> bool:
        """Cheap "is anything new since this cursor?"; True when unsure."""

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        """Up to ``limit`` changes since ``cursor`` (all items when the cursor is empty)."""

    def fetch(self, target: TargetRef, refs: Iterable[ItemRef]) -> Iterator[RawItem]:
        """The bytes of these items; an item gone meanwhile is silently left out."""

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        """Block until the server signals a change (IMAP IDLE) or ``timeout`` passes; True if something changed."""

    def close(self) -> None:
        """Release connections; the connector may be reopened by calling any method again."""


C = TypeVar("C", bound="CursorCodec")


@dataclass(frozen=True)
class CursorCodec:
    """Base for typed cursors: JSON outside, a dataclass inside, with a ``v`` version field.

    A cursor written by an older version (or garbage) raises ``CursorInvalid``, which makes the engine resync.
    """

    VERSION: ClassVar[int] = 1

    def to_json(self) -> str:
        return json.dumps({"v": self.VERSION, **asdict(self)}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls: type[C], text: str) -> C | None:
        """None for the empty cursor ("never synced")."""
        if not text:
            return None
        try:
            raw = json.loads(text)
            if raw.pop("v") != cls.VERSION:
                raise CursorInvalid(f"cursor version {raw.get('v')} is not {cls.VERSION}")
            names = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in raw.items() if k in names})
        except CursorInvalid:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CursorInvalid(f"unreadable cursor: {exc}") from None


def sleep_wait(stop_event, timeout: float) -> bool:
    """``wait_for_change`` for sources without push: wait (interruptibly) and report "maybe changed"."""
    if stop_event is not None:
        stop_event.wait(timeout)
    return True
