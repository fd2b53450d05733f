"""The connector contract against the local Graph server (message delta, deltaLink cursors, 410 reset).

Run twice: with ``snippet`` visibility the connector fetches the MIME source (``$value``, Mail.Read); with
``metadata`` it builds the header block from the fields a Mail.ReadBasic token can read.
"""

from __future__ import annotations

import pytest

from agent.auth.store import TokenStore
from agent.connectors.graph.connector import GraphConnector
from agent.records import TargetRef
from tests.connectors.contract import ConnectorContract
from tests.microsoft.fixtures import graph_server, graph_session, identity_server, m365_spec, settings_for, sign_in  # noqa: F401


class GraphSource:
    def __init__(self, graph, identity, workspace, visibility: str) -> None:
        self.graph = graph
        self.settings = settings_for(
            workspace, m365_spec(identity, graph, "m365", visibility=visibility, calendar=False)
        )
        self.account = self.settings.accounts[0]
        self.store = TokenStore(self.settings.accounts, directory=workspace / "tokens")
        sign_in(self.store, "m365", identity)
        self._connectors: list[GraphConnector] = []

    def connector(self) -> GraphConnector:
        conn = GraphConnector(self.account, token_store=self.store)
        self._connectors.append(conn)
        return conn

    def target(self) -> TargetRef:
        return TargetRef("m365", "inbox", "mail", "inbox")

    def add(self, messages) -> None:
        self.graph.mailbox.add_messages("inbox", messages)

    def delete(self, count: int) -> None:
        self.graph.mailbox.delete_messages("inbox", count)

    def invalidate(self):
        self.graph.mailbox.invalidate("inbox")
        return True

    def close(self) -> None:
        for conn in self._connectors:
            conn.close()


@pytest.fixture(params=["snippet", "metadata"])
def source(request, graph_server, identity_server, tmp_workspace):
    src = GraphSource(graph_server, identity_server, tmp_workspace, request.param)
    yield src
    src.close()


class TestGraphContract(ConnectorContract):
    pass
