"""The connector contract against a local Maildir and an mbox file."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from agent.connectors.localmail import LocalMailConnector
from agent.records import TargetRef
from tests.connectors.contract import ConnectorContract


class MaildirSource:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.box = mailbox.Maildir(root, create=True)

    def connector(self) -> LocalMailConnector:
        return LocalMailConnector("local", self.root)

    def target(self) -> TargetRef:
        return TargetRef("local", "INBOX", "mail", "inbox")

    def add(self, messages) -> None:
        for data in messages:
            self.box.add(data)

    def delete(self, count: int) -> None:
        for key in sorted(self.box.keys())[:count]:
            self.box.remove(key)

    def invalidate(self):
        return None


class MboxSource(MaildirSource):
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root / "Inbox"
        self.box = mailbox.mbox(self.root, create=True)

    def connector(self) -> LocalMailConnector:
        return LocalMailConnector("local", self.root, fmt="mbox")

    def target(self) -> TargetRef:
        return TargetRef("local", "Inbox", "mail", "other")

    def add(self, messages) -> None:
        for data in messages:
            self.box.add(data)
        self.box.flush()

    def delete(self, count: int) -> None:
        for key in sorted(self.box.keys())[:count]:
            self.box.remove(key)
        self.box.flush()


@pytest.fixture(params=["maildir", "mbox"])
def source(request, tmp_path):
    return MaildirSource(tmp_path / "Mail") if request.param == "maildir" else MboxSource(tmp_path / "mbox")


class TestLocalMailContract(ConnectorContract):
    pass


def test_maildir_plus_plus_discovers_inbox_and_sent(tmp_path):
    root = tmp_path / "Mail"
    mailbox.Maildir(root, create=True).add_folder("Sent")
    mailbox.Maildir(root, create=True).add_folder("Archives.2024")
    targets = {t.name: t.role for t in LocalMailConnector("local", root).discover()}
    assert targets == {"INBOX": "inbox", "Sent": "sent", "Archives/2024": "other"}
