"""The token store of a configuration: which accounts sign in with OAuth2, their token files, getters and status.

Connectors receive a ``TokenStore`` (``token_store.access_token_getter(name)``) and never read files or talk to
the sign-in service themselves. Status is computed from the files' plain metadata: it needs no decryption key.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from agent.auth.scopes import default_scopes
from agent.auth.token_file import TokenFile, resolve_key
from agent.auth.tokens import AccessToken, AccountTokens, parse_time
from agent.clock import Clock, SystemClock
from agent.config.accounts_microsoft import OAuthSettings, oauth_settings
from agent.errors import UserError

WARN_AHEAD = timedelta(days=14)


def default_token_dir() -> Path:
    from agent.paths import data_dir

    return data_dir() / "tokens"


class TokenGetter:
    """What a connector holds: calling it gives a valid access token string (IMAP XOAUTH2, Graph, EWS)."""

    def __init__(self, tokens: AccountTokens) -> None:
        self._tokens = tokens

    def __call__(self) -> str:
        return self._tokens.access_token().value

    def token(self) -> AccessToken:
        return self._tokens.access_token()

    def refresh(self) -> str:
        """A new access token even if the cached one looks valid (the server just refused it: revoked?)."""
        return self._tokens.access_token(force=True).value


class TokenStore:
    """Builds ``AccountTokens`` for the accounts that sign in with OAuth2 (lazily, one per account)."""

    def __init__(self, accounts: Iterable, *, directory: Path | None = None, clock: Clock | None = None) -> None:
        self.accounts = {a.name: a for a in accounts}
        self.directory = directory or default_token_dir()
        self.clock = clock or SystemClock()
        self._tokens: dict[str, AccountTokens] = {}

    def oauth(self, name: str) -> OAuthSettings | None:
        account = self.accounts.get(name)
        return oauth_settings(account) if account is not None else None

    def managed(self) -> list[str]:
        """Names of the accounts whose tokens this store keeps."""
        return [name for name in self.accounts if self.oauth(name) is not None]

    def token_file(self, name: str) -> TokenFile:
        oauth = self.oauth(name)
        return TokenFile(
            self.directory / f"{name}.json", lambda: resolve_key(oauth.token_key if oauth else None, create=True)
        )

    def tokens(self, name: str) -> AccountTokens:
        if name not in self._tokens:
            account = self.accounts.get(name)
            if account is None:
                known = ", ".join(self.accounts) or "none configured"
                raise UserError(f"no account named {name!r} (accounts: {known})")
            oauth = self.oauth(name)
            if oauth is None:
                raise UserError(
                    f'account {name}: it does not sign in with OAuth2 (set auth = "oauth2" and an oauth2 table)'
                )
            self._tokens[name] = AccountTokens(
                name, oauth, default_scopes(account, oauth), self.token_file(name), clock=self.clock
            )
        return self._tokens[name]

    def access_token_getter(self, name: str) -> TokenGetter:
        return TokenGetter(self.tokens(name))

    def status(self, now: datetime | None = None) -> list[dict]:
        now = now or self.clock.now()
        return [token_status(name, self.oauth(name), self.token_file(name).read_meta(), now) for name in self.managed()]


def token_status(name: str, oauth: OAuthSettings, meta: dict | None, now: datetime) -> dict:
    """What `status` and `tokens` show for one account: state ok / expiring / expired / revoked / missing."""
    fix = f"run crm-agent accounts login {name}"
    entry = {
        "account": name,
        "flow": oauth.flow,
        "username": "",
        "state": "ok",
        "expires_at": None,
        "days_left": None,
        "access_expires_at": None,
        "refreshed_at": None,
        "error": "",
        "warning": "",
        "fix": "",
    }
    if oauth.flow == "client_credentials":
        fix = f"renew the client secret of app {oauth.client_id} and update oauth2.client_secret"
        horizon = (
            datetime.combine(oauth.secret_expires, datetime.min.time(), tzinfo=now.tzinfo)
            if oauth.secret_expires
            else None
        )
    else:
        horizon = parse_time((meta or {}).get("refresh_expires_at"))
    if meta:
        entry.update(
            username=meta.get("username", ""),
            access_expires_at=meta.get("access_expires_at"),
            refreshed_at=meta.get("refreshed_at") or meta.get("signed_in_at"),
            error=meta.get("error", ""),
        )
    if horizon is not None:
        entry["expires_at"] = horizon.isoformat()
        entry["days_left"] = max(0, (horizon - now).days)
    if meta is None and oauth.flow == "device_code":
        entry.update(state="missing", warning="not signed in yet")
    elif entry["error"]:
        entry.update(state="revoked", warning=f"sign-in refused: {entry['error']}")
    elif horizon is not None and horizon <= now:
        entry.update(state="expired", warning=f"sign-in expired on {horizon.date().isoformat()}")
    elif horizon is not None and horizon - now <= WARN_AHEAD:
        entry.update(
            state="expiring", warning=f"sign-in expires in {entry['days_left']} day(s), on {horizon.date().isoformat()}"
        )
    if entry["state"] != "ok":
        entry["fix"] = fix
    return entry
