"""The connector contract against the local EWS server, through the real exchangelib code path.

Run twice: ``snippet`` visibility fetches MimeContent (the message source); ``metadata`` builds the header block
from the item's fields (no body requested).
"""

from __future__ import annotations

import pytest

from agent.connectors.ews.connector import EwsConnector
from agent.records import TargetRef
from tests.connectors.contract import ConnectorContract
from tests.microsoft.fixtures import ews_server, ews_session, ews_spec, identity_server, settings_for  # noqa: F401


class EwsSource:
    def __init__(self, ews, workspace, visibility: str) -> None:
        self.ews = ews
        self.account = settings_for(workspace, ews_spec(ews, "ews", visibility=visibility, calendar=False)).accounts[0]
        self._connectors: list[EwsConnector] = []

    def connector(self) -> EwsConnector:
        conn = EwsConnector(self.account)
        self._connectors.append(conn)
        return conn

    def target(self) -> TargetRef:
        return TargetRef("ews", "inbox", "mail", "inbox")

    def add(self, messages) -> None:
        self.ews.mailbox.add_messages("inbox", messages)

    def delete(self, count: int) -> None:
        self.ews.mailbox.delete_messages("inbox", count)

    def invalidate(self):
        self.ews.mailbox.invalidate("inbox")
        return True

    def close(self) -> None:
        for conn in self._connectors:
            conn.close()


@pytest.fixture(params=["snippet", "metadata"])
def source(request, ews_server, tmp_workspace):
    src = EwsSource(ews_server, tmp_workspace, request.param)
    yield src
    src.close()


class TestEwsContract(ConnectorContract):
    pass
