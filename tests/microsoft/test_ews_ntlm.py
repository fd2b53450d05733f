"""NTLM, the default `auth` of an `ews` account, end to end: exchangelib and requests-ntlm against a real acceptor.

The local EWS server authenticates connections the way IIS does (401 `WWW-Authenticate: NTLM`, then Negotiate,
Challenge and Authenticate on one keep-alive connection), with pyspnego's NTLM acceptor checking the response
against the user file; no Exchange is needed to prove the handshake, the domain form of the login and the error
for a wrong password.
"""

from __future__ import annotations

import base64

import pytest

from agent.connectors.ews.connector import EwsConnector
from agent.errors import AuthError
from tests.connectors.contract import list_all
from tests.microsoft.ews_server import EwsServer
from tests.microsoft.fixtures import USER, ews_spec, settings_for
from tests.microsoft.mailbox import Mailbox
from tests.support.messages import bulk

PASSWORD = "Hiver-2026-ntlm"


@pytest.fixture
def ntlm_server(tmp_path, monkeypatch):
    users = tmp_path / "ntlm-users"
    users.write_text(f"ATELIER:claire:{PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    with EwsServer(Mailbox(USER), ntlm=True) as server:
        yield server


def connector(server, workspace, **extra) -> EwsConnector:
    spec = ews_spec(server, "ews", calendar=False, auth="ntlm", username="ATELIER\\claire", password=PASSWORD)
    return EwsConnector(settings_for(workspace, {**spec, **extra}).accounts[0])


def ntlm_types(server) -> list[int]:
    """The NTLM message type (1 Negotiate, 3 Authenticate) each request carried; 0 for none."""
    types = []
    for request in server.requests:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        types.append(base64.b64decode(token)[8] if scheme == "NTLM" else 0)
    return types


def test_the_ntlm_handshake_authenticates_the_connection_and_the_sync_runs_on_it(ntlm_server, tmp_workspace):
    ntlm_server.mailbox.add_messages("inbox", bulk(3))
    conn = connector(ntlm_server, tmp_workspace)
    targets = conn.discover()
    upserts, _, _, _ = list_all(conn, targets[0], "", limit=1)
    assert len(upserts) == 3
    assert set(ntlm_server.ntlm_users.values()) == {"ATELIER\\claire"}
    types = ntlm_types(ntlm_server)
    # a handshake per connection (exchangelib keeps at most two), not per request: later requests ride on it
    assert 1 <= types.count(1) == types.count(3) <= 2
    assert len(types) - 3 * types.count(1) >= 3  # the paged SyncFolderItems answers came without a new handshake


def test_a_wrong_ntlm_password_is_an_auth_error(ntlm_server, tmp_workspace):
    with pytest.raises(AuthError):
        connector(ntlm_server, tmp_workspace, password="wrong").discover()
    assert ntlm_server.ntlm_users == {}
