"""The connector contract against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

import pytest

from agent.connectors.imap import ImapConnector
from agent.records import TargetRef
from tests.connectors.contract import ConnectorContract
from tests.support.accounts import imap_account

pytestmark = pytest.mark.servers


class ImapSource:
    def __init__(self, dovecot, user: str) -> None:
        self.dovecot, self.user = dovecot, user
        self._connectors: list[ImapConnector] = []

    def connector(self) -> ImapConnector:
        conn = ImapConnector(imap_account(self.dovecot, self.user))
        self._connectors.append(conn)
        return conn

    def target(self) -> TargetRef:
        return TargetRef("imap", "INBOX", "mail", "inbox")

    def add(self, messages) -> None:
        self.dovecot.multiappend(self.user, "INBOX", messages)

    def delete(self, count: int) -> None:
        client = self.dovecot.connect(self.user)
        try:
            client.select_folder("INBOX")
            uids = sorted(client.search("ALL"))[:count]
            client.delete_messages(uids)
            client.expunge()
        finally:
            client.logout()

    def invalidate(self):
        return self.dovecot.set_uidvalidity_change(self.user, "INBOX")

    def close(self) -> None:
        for conn in self._connectors:
            conn.close()


@pytest.fixture
def source(dovecot, imap_user):
    src = ImapSource(dovecot, imap_user)
    yield src
    src.close()


class TestImapContract(ConnectorContract):
    pass
