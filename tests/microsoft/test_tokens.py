"""OAuth2 tokens: sealed at rest, refreshed before expiry, rotation persisted before use, status and its warnings."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from agent.auth.store import TokenStore
from agent.auth.token_file import KEY_ENV, resolve_key
from agent.clock import FakeClock
from agent.errors import AuthError, TemporaryError, UserError
from tests.microsoft.fixtures import APP_ID, APP_SECRET, m365_spec, oauth_table, settings_for, sign_in

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)


def make_store(graph, identity, workspace, *, clock=None, **extra):
    settings = settings_for(workspace, m365_spec(identity, graph, "m365", **extra))
    return TokenStore(settings.accounts, directory=workspace / "tokens", clock=clock or FakeClock(NOW)), settings


def refresh_requests(identity) -> int:
    return sum(1 for r in identity.token_requests if r.get("grant_type") == "refresh_token")


def test_the_cache_is_sealed_at_rest_and_private(graph_server, identity_server, tmp_workspace):
    store, _ = make_store(graph_server, identity_server, tmp_workspace)
    sign_in(store, "m365", identity_server)
    path = tmp_workspace / "tokens" / "m365.json"
    text = path.read_text()
    access, refresh = list(identity_server.access_tokens)[-1], identity_server.latest_refresh_token()
    assert access not in text and refresh not in text
    assert json.loads(text)["meta"]["username"] == "claire@atelier-durand.fr"  # status needs no key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other_key = Fernet.generate_key().decode()
    wrong, _ = make_store(graph_server, identity_server, tmp_workspace, oauth2={"token_key": other_key})
    with pytest.raises(UserError, match="cannot decrypt"):
        wrong.tokens("m365").access_token()


def test_without_any_key_source_the_person_is_told_what_to_set(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(UserError, match=KEY_ENV):
        resolve_key(None, create=True)  # this machine has no keyring backend
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    with pytest.raises(UserError, match="not a Fernet key"):
        resolve_key(None)
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV, key)
    assert resolve_key(None) == key.encode()


def test_refresh_happens_only_near_expiry_and_the_rotated_token_is_stored(graph_server, identity_server, tmp_workspace):
    clock = FakeClock(NOW)
    store, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock)
    sign_in(store, "m365", identity_server)
    tokens = store.tokens("m365")
    first = tokens.access_token()
    clock.advance(timedelta(minutes=50))
    assert tokens.access_token().value == first.value and refresh_requests(identity_server) == 0
    clock.advance(timedelta(minutes=6))  # 4 minutes left: inside the 5-minute margin
    second = tokens.access_token()
    assert second.value != first.value and refresh_requests(identity_server) == 1
    stored = tokens.file.read()
    assert identity_server.latest_refresh_token() in stored.secret  # the rotated refresh token is what is kept
    assert stored.meta["refreshed_at"] == clock.now().isoformat()
    assert stored.meta["access_expires_at"] == (clock.now() + timedelta(hours=1)).isoformat()


def test_a_refreshed_token_that_cannot_be_stored_is_not_used(graph_server, identity_server, tmp_workspace, monkeypatch):
    clock = FakeClock(NOW)
    store, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock)
    sign_in(store, "m365", identity_server)
    tokens = store.tokens("m365")
    before = tokens.file.path.read_bytes()
    clock.advance(timedelta(minutes=58))
    issued = set(identity_server.access_tokens)

    def disk_full(self, record):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(type(tokens.file), "write", disk_full)
        with pytest.raises(TemporaryError, match="not used"):
            tokens.access_token()
    assert set(identity_server.access_tokens) - issued  # the server did issue a new token...
    assert tokens.file.path.read_bytes() == before  # ...which was never stored nor handed out
    assert tokens.access_token().value not in issued  # the stored refresh token still works afterwards


def test_two_threads_refresh_once(graph_server, identity_server, tmp_workspace):
    clock = FakeClock(NOW)
    store, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock)
    sign_in(store, "m365", identity_server)
    clock.advance(timedelta(minutes=58))
    getter = store.access_token_getter("m365")
    values: list[str] = []
    threads = [threading.Thread(target=lambda: values.append(getter())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(values)) == 1 and refresh_requests(identity_server) == 1


def test_a_revoked_sign_in_is_an_auth_error_that_status_shows(graph_server, identity_server, tmp_workspace):
    clock = FakeClock(NOW)
    store, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock)
    sign_in(store, "m365", identity_server)
    identity_server.revoke("claire@atelier-durand.fr")
    clock.advance(timedelta(hours=2))
    with pytest.raises(AuthError, match="invalid_grant") as caught:
        store.tokens("m365").access_token()
    assert caught.value.fix == "run crm-agent accounts login m365"
    [entry] = store.status()
    assert entry["state"] == "revoked" and entry["fix"] == "run crm-agent accounts login m365"
    sign_in(store, "m365", identity_server)  # signing in again clears it
    assert store.status()[0]["state"] == "ok"


def test_status_warns_fourteen_days_ahead_then_says_expired(graph_server, identity_server, tmp_workspace):
    clock = FakeClock(NOW)
    store, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock, oauth2={"refresh_token_days": 30})
    assert store.status()[0]["state"] == "missing"
    sign_in(store, "m365", identity_server)
    entry = store.status()[0]
    assert (entry["state"], entry["days_left"], entry["warning"]) == ("ok", 30, "")
    clock.advance(timedelta(days=15))
    entry = store.status()[0]
    assert entry["state"] == "ok"
    clock.advance(timedelta(days=4))
    entry = store.status()[0]
    assert entry["state"] == "expiring" and entry["days_left"] == 11 and "expires in 11 day(s)" in entry["warning"]
    clock.advance(timedelta(days=12))
    assert store.status()[0]["state"] == "expired"


def test_a_refresh_slides_the_refresh_token_horizon(graph_server, identity_server, tmp_workspace):
    clock = FakeClock(NOW)
    store, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock, oauth2={"refresh_token_days": 30})
    sign_in(store, "m365", identity_server)
    clock.advance(timedelta(days=20))
    store.tokens("m365").access_token()
    assert store.status()[0]["days_left"] == 30


def test_client_credentials_need_no_sign_in_and_status_follows_the_secret(graph_server, identity_server, tmp_workspace):
    clock = FakeClock(NOW)
    oauth = {
        "client_id": APP_ID,
        "flow": "client_credentials",
        "client_secret": APP_SECRET,
        "secret_expires": "2026-12-05",
    }
    store, settings = make_store(graph_server, identity_server, tmp_workspace, clock=clock, oauth2=oauth)
    assert settings.accounts[0].user_path == "/users/claire@atelier-durand.fr"
    token = store.tokens("m365").access_token()
    grant = identity_server.grant_for(token.value)
    assert grant is not None and grant.scopes == ["https://graph.microsoft.com/.default"]
    entry = store.status()[0]
    assert entry["state"] == "expiring" and entry["days_left"] == 8 and "client secret" in entry["fix"]
    bad, _ = make_store(
        graph_server, identity_server, tmp_workspace / "bad", clock=clock, oauth2={**oauth, "client_secret": "wrong"}
    )
    with pytest.raises(AuthError, match="invalid_client") as caught:
        bad.tokens("m365").access_token()
    assert "client_secret" in caught.value.fix


def test_the_sign_in_service_being_down_is_temporary(graph_server, identity_server, tmp_workspace):
    clock = FakeClock(NOW)
    store, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock)
    sign_in(store, "m365", identity_server)
    clock.advance(timedelta(hours=2))
    identity_server.down = True
    with pytest.raises(TemporaryError, match="503"):
        store.tokens("m365").access_token()
    identity_server.down = False
    assert store.status()[0]["state"] == "ok"  # a temporary failure is not a revocation
    # (msal replays a 5xx for a few seconds to the same process; the engine retries a minute later anyway)
    later, _ = make_store(graph_server, identity_server, tmp_workspace, clock=clock)
    assert later.tokens("m365").access_token().value


def test_oauth_table_of_an_imap_account_is_checked_with_its_key_path(identity_server, tmp_workspace):
    imap = {
        "name": "gmail-like",
        "kind": "imap",
        "host": "127.0.0.1",
        "username": "u",
        "auth": "oauth2",
        "oauth2": {"tenant": "contoso"},
    }
    store = TokenStore(settings_for(tmp_workspace, imap).accounts, directory=tmp_workspace)
    with pytest.raises(UserError, match=r"accounts.gmail-like.oauth2.client_id"):
        store.tokens("gmail-like")
    ok = {**imap, "oauth2": oauth_table(identity_server)}
    store = TokenStore(settings_for(tmp_workspace, ok).accounts, directory=tmp_workspace)
    assert store.tokens("gmail-like").scopes == ["https://outlook.office.com/IMAP.AccessAsUser.All"]
