"""IMAP with OAuth2: a device-code sign-in, then SASL XOAUTH2 logins that a real Dovecot checks by introspection.

Dovecot runs with a second configuration (tests/microsoft/dovecot_oauth.py: the harness's Dovecot plus an oauth2
passdb); it asks the local sign-in service whether each bearer token is active and whose it is. So the token
msal obtained and refreshed is the one the IMAP server accepts or refuses.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.auth.store import TokenStore
from agent.clock import FakeClock, SystemClock
from agent.connectors import make_connector
from agent.connectors.imap import ImapConnector
from agent.errors import AuthError
from tests.connectors.contract import list_all
from tests.harness import leftover_processes
from tests.microsoft.dovecot_oauth import IntrospectionFront, OAuthDovecot
from tests.microsoft.fixtures import oauth_table, settings_for, sign_in
from tests.support.messages import bulk

pytestmark = pytest.mark.servers


@pytest.fixture(scope="session")
def oauth_dovecot(harness_base_dir: Path, identity_server) -> Iterator[OAuthDovecot]:
    with IntrospectionFront(identity_server) as front:
        server = OAuthDovecot(harness_base_dir / "imap-oauth2", f"{front.base_url}/introspect")
        server.introspection = front  # every XOAUTH2 login Dovecot checks shows up as a request here
        try:
            server.start()
            yield server
        finally:
            server.stop()
            assert not leftover_processes(server.process_groups())


@pytest.fixture
def mail_user(oauth_dovecot) -> str:
    name = f"oauth{uuid.uuid4().hex[:8]}@example.org"
    oauth_dovecot.add_user(name, "seeding-only")  # the test seeds mail with a password; the agent uses XOAUTH2
    return name


def imap_oauth_spec(dovecot, identity, user: str) -> dict:
    return {
        "name": "m365-imap",
        "kind": "imap",
        "host": dovecot.host,
        "port": dovecot.port,
        "security": "plain",
        "username": user,
        "auth": "oauth2",
        "oauth2": oauth_table(identity),
    }


def introspected(dovecot) -> list[str]:
    """The bearer tokens Dovecot asked about, in order (one per XOAUTH2 login attempt)."""
    return [request.form().get("token", "") for request in dovecot.introspection.requests]


def test_device_code_sign_in_then_xoauth2_login_and_sync(
    oauth_dovecot, mail_user, identity_server, tmp_workspace, monkeypatch
):
    oauth_dovecot.multiappend(mail_user, "INBOX", bulk(3))
    monkeypatch.setenv("CRM_AGENT_DATA_DIR", str(tmp_workspace))  # where make_connector's token store looks
    account = settings_for(tmp_workspace, imap_oauth_spec(oauth_dovecot, identity_server, mail_user)).accounts[0]
    sign_in(TokenStore([account]), account.name, identity_server, username=mail_user)
    assert (
        list(identity_server.access_tokens.values())[-1].scopes[0] == "https://outlook.office.com/IMAP.AccessAsUser.All"
    )
    connector = make_connector(account)
    try:
        inbox = next(t for t in connector.discover() if t.role == "inbox")
        upserts, _, _, _ = list_all(connector, inbox, "")
        assert len(list(connector.fetch(inbox, upserts))) == 3
    finally:
        connector.close()
    assert introspected(oauth_dovecot)[-1] == list(identity_server.access_tokens)[-1]  # Dovecot checked our token


def test_an_expiring_token_is_refreshed_before_the_login(oauth_dovecot, mail_user, identity_server, tmp_workspace):
    account = settings_for(tmp_workspace, imap_oauth_spec(oauth_dovecot, identity_server, mail_user)).accounts[0]
    directory = tmp_workspace / "tokens"
    identity_server.expires_in = 120
    try:
        sign_in(TokenStore([account], directory=directory), account.name, identity_server, username=mail_user)
        first = list(identity_server.access_tokens)[-1]
        later = TokenStore([account], directory=directory, clock=FakeClock(SystemClock().now() + timedelta(minutes=1)))
        connector = ImapConnector(account, token_store=later)
        connector.discover()
        connector.close()
    finally:
        identity_server.expires_in = 3600
    fresh = list(identity_server.access_tokens)[-1]
    assert fresh != first and introspected(oauth_dovecot)[-1] == fresh  # refreshed before the login, not after


def test_a_revoked_token_is_refused_by_dovecot_with_the_fix_to_run(
    oauth_dovecot, mail_user, identity_server, tmp_workspace
):
    account = settings_for(tmp_workspace, imap_oauth_spec(oauth_dovecot, identity_server, mail_user)).accounts[0]
    store = TokenStore([account], directory=tmp_workspace / "tokens")
    sign_in(store, account.name, identity_server, username=mail_user)
    identity_server.revoke(mail_user)  # the cached access token is still "valid" for us, not for the server
    connector = ImapConnector(account, token_store=store)
    with pytest.raises(AuthError, match="invalid_grant") as caught:
        connector.discover()  # Dovecot refuses the token; the forced refresh is refused too: revoked
    assert caught.value.fix == "run crm-agent accounts login m365-imap"
    checked = len(oauth_dovecot.introspection.requests)
    with pytest.raises(AuthError):
        ImapConnector(account, token_store=store).discover()  # remembered: not even a login attempt
    assert len(oauth_dovecot.introspection.requests) == checked


def test_a_static_token_refused_says_to_renew_it(oauth_dovecot, mail_user, identity_server, tmp_workspace):
    spec = {**imap_oauth_spec(oauth_dovecot, identity_server, mail_user), "oauth2": None, "oauth2_token": "at-unknown"}
    account = settings_for(tmp_workspace, spec).accounts[0]
    with pytest.raises(AuthError, match="XOAUTH2 login refused") as caught:
        make_connector(account).discover()
    assert caught.value.fix == "renew oauth2_token in the config"
