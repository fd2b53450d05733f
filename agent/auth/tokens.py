"""One account's OAuth2 tokens with msal: sign-in, refresh before expiry, and the new token persisted before use.

Sign-in
    ``device_code`` (a person): msal asks the authority for a code, the person enters it at the page shown, and
    msal polls until they approved. ``client_credentials`` (the organisation's app): no person; the first access
    token request is the sign-in.
Refresh
    ``access_token()`` returns the cached access token while it has more than ``margin`` left (by the injected
    clock), otherwise redeems the refresh token. Microsoft answers with a *new* refresh token each time.
Persist before use
    When msal's cache changed (new access token, rotated refresh token), the sealed file is replaced atomically
    *before* the access token is handed out. If writing fails, the token is not used: the caller gets an error and
    the old file, whose refresh token Microsoft still honours until it expires, stays in place. A crash between the
    refresh and the write therefore loses nothing but the new token; the stored one still works.
Errors
    ``invalid_grant`` / ``interaction_required`` (expired, revoked, password changed) → ``AuthError`` with the fix
    ("run crm-agent accounts login NAME"); the error is also written in the file's plain metadata so ``status``
    shows it. Network trouble and ``temporarily_unavailable`` → ``TemporaryError``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msal
import requests

from agent.auth.token_file import TokenFile, TokenRecord
from agent.clock import Clock, SystemClock
from agent.config.accounts_microsoft import MICROSOFT_LOGIN, OAuthSettings
from agent.errors import AuthError, TemporaryError, UserError

REFRESH_MARGIN = timedelta(minutes=5)
_AUTH_ERRORS = frozenset(
    {
        "invalid_grant",
        "interaction_required",
        "invalid_client",
        "unauthorized_client",
        "consent_required",
        "login_required",
        "invalid_scope",
        "expired_token",
        "authorization_declined",
        "access_denied",
        "bad_verification_code",
    }
)


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_at: datetime


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


class AccountTokens:
    """The tokens of one account; thread-safe, and safe across processes through the file's lock."""

    def __init__(
        self,
        name: str,
        oauth: OAuthSettings,
        scopes: list[str],
        token_file: TokenFile,
        *,
        clock: Clock | None = None,
        margin: timedelta = REFRESH_MARGIN,
        timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.oauth = oauth
        self.scopes = scopes
        self.file = token_file
        self.clock = clock or SystemClock()
        self.margin = margin
        self.timeout = timeout
        self._lock = threading.Lock()
        self._cache = msal.SerializableTokenCache()
        self._http_cache: dict = {}  # msal keeps authority discovery answers here: one round trip per process
        self._app: msal.ClientApplication | None = None

    @property
    def fix(self) -> str:
        if self.oauth.flow == "client_credentials":
            return "check oauth2.client_id, oauth2.client_secret and the app's granted permissions"
        return f"run crm-agent accounts login {self.name}"

    # ------------------------------------------------------------------ msal

    def _client(self) -> msal.ClientApplication:
        if self._app is None:
            http = _PinnedSession(str(self.oauth.ca_file) if self.oauth.ca_file else None)
            options: dict[str, Any] = {
                "client_id": self.oauth.client_id,
                "authority": self.oauth.authority_url,
                "token_cache": self._cache,
                "http_client": http,
                "timeout": self.timeout,
                "http_cache": self._http_cache,
            }
            if not self.oauth.authority_url.startswith(MICROSOFT_LOGIN):
                options["instance_discovery"] = False  # a private or national-cloud authority is trusted as written
            with self._edge("contacting the sign-in service"):
                if self.oauth.flow == "client_credentials":
                    assert self.oauth.client_secret is not None
                    self._app = msal.ConfidentialClientApplication(
                        client_credential=self.oauth.client_secret.reveal(), **options
                    )
                else:
                    self._app = msal.PublicClientApplication(**options)
        return self._app

    def _edge(self, what: str):
        return _classified(f"account {self.name}: {what}")

    def _check(self, result: dict | None, what: str) -> dict:
        if result is None:
            raise AuthError(f"account {self.name}: no refresh token stored ({what})", fix=self.fix)
        if "access_token" in result:
            return result
        error = str(result.get("error", "unknown_error"))
        lines = str(result.get("error_description") or "").strip().splitlines()
        text = f"account {self.name}: {what} refused: {error}" + (f": {lines[0]}" if lines else "")
        if error in _AUTH_ERRORS:
            raise AuthError(text, fix=self.fix)
        raise TemporaryError(text)

    # ------------------------------------------------------------------ sign-in

    def login(self, prompt: Callable[[str], None]) -> dict:
        """Sign in (device code: ``prompt`` shows the page and the code) and store the tokens. Returns the status."""
        with self._lock:
            self._cache.deserialize("{}")
            app = self._client()
            with self._edge("sign-in"):
                if self.oauth.flow == "client_credentials":
                    result = app.acquire_token_for_client(scopes=self.scopes)
                else:
                    flow = app.initiate_device_flow(scopes=self.scopes)
                    if "user_code" not in flow:
                        self._check(flow, "device sign-in")
                    prompt(flow.get("message") or f"open {flow.get('verification_uri')} and enter {flow['user_code']}")
                    result = app.acquire_token_by_device_flow(flow)
            result = self._check(result, "sign-in")
            now = self.clock.now()
            claims = result.get("id_token_claims") or {}
            meta = {
                "account": self.name,
                "flow": self.oauth.flow,
                "scopes": list(self.scopes),
                "username": claims.get("preferred_username") or claims.get("upn") or "",
                "signed_in_at": _iso(now),
                "error": "",
                "error_at": None,
            }
            self._remember_expiry(meta, result, now)
            with self.file.locked():
                self.file.write(TokenRecord(meta, self._cache.serialize()))
            return meta

    # ------------------------------------------------------------------ use

    def access_token(self, *, force: bool = False) -> AccessToken:
        """A valid access token, refreshed first when it expires within ``margin`` (or ``force``); persisted before
        it is returned. A sign-in the service refused stays refused, without a network round, until the next login."""
        with self._lock, self.file.locked():
            record = self.file.read()
            if record is None and self.oauth.flow != "client_credentials":
                raise AuthError(f"account {self.name}: not signed in to Microsoft yet", fix=self.fix)
            record = record or TokenRecord({"account": self.name, "flow": self.oauth.flow, "scopes": list(self.scopes)})
            if record.meta.get("error") and self.oauth.flow == "device_code":
                raise AuthError(record.meta["error"], fix=self.fix)  # no retry loop against the sign-in service
            self._cache.deserialize(record.secret or "{}")
            app = self._client()
            now = self.clock.now()
            expires = parse_time(record.meta.get("access_expires_at"))
            force = force or expires is None or expires - now <= self.margin
            try:
                with self._edge("token refresh"):
                    if self.oauth.flow == "client_credentials":
                        if force:
                            self._cache.deserialize("{}")  # msal would hand back the cached token: drop it
                        result = app.acquire_token_for_client(scopes=self.scopes)
                    else:
                        accounts = app.get_accounts(username=record.meta.get("username") or None) or app.get_accounts()
                        if not accounts:
                            raise AuthError(
                                f"account {self.name}: the token cache holds no signed-in user", fix=self.fix
                            )
                        result = app.acquire_token_silent_with_error(
                            self.scopes, account=accounts[0], force_refresh=force
                        )
                    result = self._check(result, "token refresh")
            except AuthError as exc:
                self._record_error(record, exc.message, now)
                raise
            if self._cache.has_state_changed:
                self._remember_expiry(record.meta, result, now)
                record.meta.update(refreshed_at=_iso(now), error="", error_at=None)
                record.secret = self._cache.serialize()
                try:
                    self.file.write(record)  # before the token leaves this method: see the module docstring
                except OSError as exc:
                    raise TemporaryError(
                        f"account {self.name}: could not store the refreshed token ({exc}); "
                        "it was not used, the stored one still works"
                    ) from None
            return AccessToken(result["access_token"], now + timedelta(seconds=int(result.get("expires_in", 0) or 0)))

    def _remember_expiry(self, meta: dict, result: dict, now: datetime) -> None:
        meta["access_expires_at"] = _iso(now + timedelta(seconds=int(result.get("expires_in", 0) or 0)))
        if self.oauth.flow == "device_code":
            given = result.get("refresh_token_expires_in")
            lifetime = timedelta(seconds=int(given)) if given else timedelta(days=self.oauth.refresh_token_days)
            meta["refresh_expires_at"] = _iso(now + lifetime)

    def _record_error(self, record: TokenRecord, message: str, now: datetime) -> None:
        """Remember a refused refresh in the plain metadata (the secrets stay as they were)."""
        if not record.secret:
            return
        record.meta.update(error=message, error_at=_iso(now))
        try:
            self.file.write(record)
        except (OSError, UserError):
            pass  # the AuthError being raised says more than a failure to note it


class _PinnedSession(requests.Session):
    """A session whose CA file wins over $REQUESTS_CA_BUNDLE (requests lets the environment override session.verify)."""

    def __init__(self, ca_file: str | None) -> None:
        super().__init__()
        self.ca_file = ca_file

    def request(self, *args, **kwargs):
        if self.ca_file and kwargs.get("verify") in (None, True):
            kwargs["verify"] = self.ca_file
        return super().request(*args, **kwargs)


class _classified:
    """Network and msal failures at the sign-in service → the agent's error classes."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or isinstance(exc, (AuthError, TemporaryError, UserError)):
            return False
        if isinstance(exc, requests.exceptions.SSLError):
            raise AuthError(
                f"{self.where}: TLS certificate rejected: {exc}", fix="check the authority URL or oauth2.ca_file"
            ) from None
        if isinstance(exc, msal.exceptions.MsalServiceError):  # an HTTP error status from the sign-in service
            if getattr(exc, "error", None) in _AUTH_ERRORS:
                raise AuthError(f"{self.where}: {exc}", fix="sign in again") from None
            raise TemporaryError(f"{self.where}: sign-in service: {exc}") from None
        if isinstance(exc, requests.exceptions.RequestException):
            raise TemporaryError(f"{self.where}: {type(exc).__name__}: {exc}") from None
        if isinstance(exc, ValueError):  # msal: authority discovery failed, malformed answers
            raise TemporaryError(f"{self.where}: {exc}") from None
        return False
