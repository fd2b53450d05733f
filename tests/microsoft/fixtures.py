"""Fixtures and helpers for the Microsoft tests: the sign-in and Graph servers, accounts signed in against them.

Imported by tests/microsoft/conftest.py and by the contract modules in tests/connectors (fixtures are found by
name in a test module's namespace). The servers are session-scoped; each test gets a fresh ``Mailbox``.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from agent.auth.store import TokenStore
from agent.config.settings import Settings
from tests.microsoft.graph_server import GraphServer
from tests.microsoft.identity_server import IdentityServer
from tests.microsoft.mailbox import Mailbox

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
APP_ID = "66666666-7777-8888-9999-000000000000"
APP_SECRET = "app-secret-value"
USER = "claire@atelier-durand.fr"
TOKEN_KEY = Fernet.generate_key().decode()
_names = itertools.count(1)


@pytest.fixture(scope="session")
def identity_server(harness_base_dir: Path) -> Iterator[IdentityServer]:
    # its own directory: this fixture is imported by several modules, each may start one (certificates must not mix)
    server = IdentityServer(Path(tempfile.mkdtemp(prefix="identity-", dir=harness_base_dir)))
    server.add_client(CLIENT_ID)
    server.add_client(APP_ID, APP_SECRET)
    with server:
        yield server


@pytest.fixture(scope="session")
def graph_session(identity_server: IdentityServer) -> Iterator[GraphServer]:
    with GraphServer(Mailbox(USER), identity_server) as server:
        yield server


@pytest.fixture
def graph_server(graph_session: GraphServer, identity_server: IdentityServer) -> Iterator[GraphServer]:
    """The session's Graph server with an empty mailbox and no pending failures."""
    graph_session.mailbox = Mailbox(USER)
    graph_session.failures.clear()
    graph_session.clear_log()
    identity_server.strict_rotation = False
    identity_server.down = False
    identity_server.expires_in = 3600
    identity_server.token_requests.clear()
    identity_server.auto_approve = None
    yield graph_session
    graph_session.failures.clear()


def oauth_table(identity: IdentityServer, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "authority": identity.authority,
        "ca_file": str(identity.cert_path),
        "token_key": TOKEN_KEY,
        **extra,
    }


def m365_spec(identity: IdentityServer, graph: GraphServer, name: str | None = None, **extra: Any) -> dict[str, Any]:
    oauth = oauth_table(identity, **extra.pop("oauth2", {}))
    return {
        "name": name or f"m365-{next(_names)}",
        "kind": "m365",
        "mailbox": USER,
        "oauth2": oauth,
        "graph_url": graph.graph_url,
        **extra,
    }


def settings_for(tmp: Path, *specs: dict[str, Any]) -> Settings:
    return Settings.model_validate(
        {"database": f"sqlite:///{tmp / 'crm.db'}", "own_domains": ["atelier-durand.fr"], "accounts": list(specs)}
    )


def sign_in(store: TokenStore, name: str, identity: IdentityServer, username: str = USER) -> dict:
    """The device-code sign-in, with the person approving the code as soon as it is shown (no polling wait)."""

    def approve(message: str) -> None:
        code = message.split(" the code ")[1].split()[0]
        identity.approve(code, username)

    return store.tokens(name).login(approve)


# ---- EWS ------------------------------------------------------------------------------------------------------
EWS_PASSWORD = "ews-secret"


@pytest.fixture(scope="session")
def ews_session(identity_server: IdentityServer) -> Iterator[Any]:
    from tests.microsoft.ews_server import EwsServer

    with EwsServer(Mailbox(USER), users={USER: EWS_PASSWORD}, identity=identity_server) as server:
        yield server


@pytest.fixture
def ews_server(ews_session) -> Iterator[Any]:
    """The session's EWS server (plain HTTP, Basic or Bearer auth) with an empty mailbox."""
    ews_session.mailbox = Mailbox(USER)
    ews_session.failures.clear()
    ews_session.clear_log()
    ews_session.operations.clear()
    yield ews_session
    ews_session.failures.clear()


def ews_spec(ews, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name or f"ews-{next(_names)}",
        "kind": "ews",
        "email": USER,
        "url": ews.url,
        "auth": "basic",
        "password": EWS_PASSWORD,
        "server_version": "Exchange2016",
        **extra,
    }
