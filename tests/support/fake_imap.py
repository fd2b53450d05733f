"""An in-memory mail server with IMAP's cursor semantics (UIDVALIDITY, ascending UIDs, expunge), for the
property-based sync test: thousands of operation sequences run in seconds. The real IMAP connector is held to the
same contract against Dovecot (tests/connectors/test_imap_contract.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from agent.errors import CursorInvalid
from agent.records import ChangeSet, ItemRef, RawItem, TargetRef


@dataclass
class FakeFolder:
    uidvalidity: int = 1
    next_uid: int = 1
    messages: dict[int, bytes] = field(default_factory=dict)  # uid -> bytes

    def add(self, data: bytes) -> int:
        uid = self.next_uid
        self.next_uid += 1
        self.messages[uid] = data
        return uid

    def renumber(self) -> None:
        """What a server rebuild does: same messages, new UIDVALIDITY, UIDs from 1."""
        old = [self.messages[uid] for uid in sorted(self.messages)]
        self.uidvalidity += 1
        self.next_uid = 1
        self.messages = {}
        for data in old:
            self.add(data)


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may swallow it)."""


class FakeImapConnector:
    kind = "imap"

    def __init__(self, account: str, folders: dict[str, FakeFolder]) -> None:
        self.account = account
        self.folders = folders
        self.crash_on_fetch: int | None = None
        self.fetch_calls = 0

    def discover(self) -> list[TargetRef]:
        return [TargetRef(self.account, name) for name in self.folders]

    def probe(self, target: TargetRef, cursor: str) -> bool:
        return True

    def list_changes(self, target: TargetRef, cursor: str, *, limit: int) -> ChangeSet:
        folder = self.folders[target.name]
        state = json.loads(cursor) if cursor else None
        if state is not None and state["uidvalidity"] != folder.uidvalidity:
            raise CursorInvalid("UIDVALIDITY changed")
        known = set(state["uids"]) if state else set()
        last = state["last"] if state else 0
        new = sorted(uid for uid in folder.messages if uid > last)
        page, more = new[:limit], len(new) > limit
        deletes = sorted(known - set(folder.messages))
        next_state = {"uidvalidity": folder.uidvalidity, "last": page[-1] if page else last,
                      "uids": sorted((known - set(deletes)) | set(page))}
        loc = lambda uid: f"{self.account}/{target.name}/{folder.uidvalidity}/{uid}"  # noqa: E731
        return ChangeSet(tuple(ItemRef(loc(uid), str(uid)) for uid in page), tuple(loc(uid) for uid in deletes),
                         json.dumps(next_state), more=more, is_full=state is None)

    def fetch(self, target: TargetRef, refs):
        self.fetch_calls += 1
        if self.crash_on_fetch is not None and self.fetch_calls >= self.crash_on_fetch:
            self.crash_on_fetch = None
            raise Crash()
        folder = self.folders[target.name]
        for ref in refs:
            data = folder.messages.get(int(ref.key))
            if data is not None:
                yield RawItem(ref, data)

    def wait_for_change(self, target: TargetRef, timeout: float) -> bool:
        return True

    def close(self) -> None:
        pass
