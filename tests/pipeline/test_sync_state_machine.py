"""Property-based sync test (DESIGN §10): any sequence of adds, deletes, copies into a second account, UIDVALIDITY
changes and crashes between or inside the durable steps ends, after one clean sync, with no duplicate and nothing
lost: one interaction per message ever synced, one sighting per present copy, nothing pending."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from agent.clock import FakeClock
from agent.pipeline.account_sync import sync_account
from agent.store.models import Interaction, PendingRef, Sighting
from agent.store.db import Store
from tests.support.env import make_settings
from tests.support.fake_imap import Crash, FakeFolder, FakeImapConnector
from tests.support.messages import BASE, make_message

_TEMPLATE: dict[str, Path] = {}


def template_db() -> Path:
    """Migrations run once; every example starts from a copy of the migrated file."""
    if "db" not in _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="crm-sm-")) / "template.db"
        store = Store(f"sqlite:///{path}")
        store.prepare()
        store.dispose()
        _TEMPLATE["db"] = path
    return _TEMPLATE["db"]


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="crm-sm-"))
        shutil.copy(template_db(), self.dir / "crm.db")
        self.settings = make_settings(self.dir, [
            {"name": "a", "kind": "maildir", "path": str(self.dir)},
            {"name": "b", "kind": "maildir", "path": str(self.dir)},
        ], sync={"batch_size": 3, "list_page": 4}, matching={"skip_internal": False})
        self.store = Store(self.settings.database)
        self.clock = FakeClock(BASE)
        self.servers = {"a": {"INBOX": FakeFolder(), "Sent": FakeFolder()}, "b": {"INBOX": FakeFolder()}}
        self.connectors = {name: FakeImapConnector(name, folders) for name, folders in self.servers.items()}
        self.next_message = 0
        self.ever_synced: set[str] = set()  # Message-IDs that a completed sync saw present

    def teardown(self) -> None:
        self.store.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _folders(self):
        return [(acc, name, folder) for acc, folders in self.servers.items() for name, folder in folders.items()]

    def _present(self) -> dict[str, int]:
        """Message-ID -> number of copies on the servers."""
        copies: dict[str, int] = {}
        for _, _, folder in self._folders():
            for data in folder.messages.values():
                mid = data.split(b"Message-ID: <", 1)[1].split(b">", 1)[0].decode()
                copies[mid] = copies.get(mid, 0) + 1
        return copies

    # ------------------------------------------------------------------ operations

    @rule(where=st.integers(0, 2))
    def add(self, where: int) -> None:
        _, _, folder = self._folders()[where]
        folder.add(make_message(self.next_message))
        self.next_message += 1

    @rule(where=st.integers(0, 2), pick=st.integers(0, 50))
    def copy_elsewhere(self, where: int, pick: int) -> None:
        """The same message in another folder or account (cc'd colleague, Sent + INBOX)."""
        source = [data for _, _, f in self._folders() for data in f.messages.values()]
        if source:
            self._folders()[where][2].add(source[pick % len(source)])

    @rule(where=st.integers(0, 2), pick=st.integers(0, 50))
    def delete(self, where: int, pick: int) -> None:
        folder = self._folders()[where][2]
        if folder.messages:
            del folder.messages[sorted(folder.messages)[pick % len(folder.messages)]]

    @rule(where=st.integers(0, 2))
    def uidvalidity_change(self, where: int) -> None:
        self._folders()[where][2].renumber()

    @rule(account=st.sampled_from(["a", "b"]), crash_on_fetch=st.integers(1, 4))
    def crash_during_sync(self, account: str, crash_on_fetch: int) -> None:
        connector = self.connectors[account]
        connector.fetch_calls, connector.crash_on_fetch = 0, crash_on_fetch
        try:
            self._sync(account)
        except Crash:
            pass
        connector.crash_on_fetch = None

    @rule()
    def clean_sync(self) -> None:
        for account in self.servers:
            self._sync(account)
        self.ever_synced |= set(self._present())
        self._check_after_clean_sync()

    def _sync(self, account: str) -> None:
        cfg = self.settings.account(account)
        reports = sync_account(self.store, self.settings, cfg, self.clock, connector=self.connectors[account])
        assert all(not r.error for r in reports), [r.error for r in reports]

    # ------------------------------------------------------------------ invariants

    def _check_after_clean_sync(self) -> None:
        present = self._present()
        with self.store.read() as s:
            stored = dict(s.execute(select(Interaction.message_id, Interaction.removed_at)).all())
            sightings = s.scalar(select(func.count()).select_from(Sighting))
            pending = s.scalar(select(func.count()).select_from(PendingRef))
        assert pending == 0
        assert set(present) <= set(stored)  # nothing lost
        assert {m for m, removed in stored.items() if removed is None} == set(present)
        assert sightings == sum(present.values())  # one sighting per present copy
        assert set(stored) <= {f"msg{n}@acme.fr" for n in range(self.next_message)}

    @invariant()
    def one_interaction_per_message(self) -> None:
        with self.store.read() as s:
            rows = s.execute(select(Interaction.message_id, func.count()).group_by(Interaction.message_id)).all()
        assert all(count == 1 for _, count in rows)


SyncMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
TestSyncStateMachine = SyncMachine.TestCase
