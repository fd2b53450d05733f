"""Microsoft Graph over httpx: bearer token, the Prefer headers crm-agent relies on, and errors classified at the edge.

Every request says ``Prefer: IdType="ImmutableId"`` (ids survive moves between folders, so a location stays
valid) and ``outlook.timezone="UTC"`` (event times come back in UTC, no Windows zone names to map).

Classification (agent.errors):
- 401 → one retry with a fresh token, then ``AuthError`` (sign in again);
- 403 → ``AuthError`` naming the missing permission (no retry until the config or the grant changes);
- 404 → ``None`` for item reads (the item is gone: the fetch leaves it out);
- 410, or a ``syncStateNotFound`` / ``resyncRequired`` code → ``CursorInvalid`` (full resync);
- 429, 503, 504 → ``TemporaryError`` with the server's ``Retry-After`` (seconds or an HTTP date); other 5xx and
  network failures → ``TemporaryError``. Nothing here sleeps: the engine schedules the retry.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from agent.errors import AuthError, CursorInvalid, TemporaryError

RESYNC_CODES = frozenset({"syncstatenotfound", "resyncrequired", "syncstateinvalid", "invaliddeltatoken"})
PREFER = 'IdType="ImmutableId", outlook.timezone="UTC"'


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds the server asked to wait: ``Retry-After: 7`` or ``Retry-After: <HTTP date>``."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_code(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return "", response.text[:200]
    if isinstance(error, str):
        return error, ""
    return str(error.get("code", "")), str(error.get("message", ""))


class GraphClient:
    """One account's Graph session. ``token`` returns a valid access token (agent.auth.TokenGetter)."""

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str],
        *,
        account: str,
        timeout: float = 60.0,
        ca_file: Path | None = None,
        page_size: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.account = account
        self.where = f"account {account}"
        self.page_size = page_size
        self.timeout = timeout
        self.verify: Any = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:  # (re)opened on first use, so a closed connector can be used again
            self._http = httpx.Client(timeout=self.timeout, verify=self.verify, follow_redirects=False)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def url(self, path_or_url: str) -> str:
        return path_or_url if path_or_url.startswith(("https://", "http://")) else f"{self.base_url}{path_or_url}"

    def get_json(
        self,
        path_or_url: str,
        *,
        params: dict | None = None,
        what: str = "",
        page_size: int | None = None,
        missing_ok: bool = False,
    ) -> dict | None:
        response = self._get(path_or_url, params, what, page_size, missing_ok)
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            raise TemporaryError(f"{self.where}: {what}: the server's answer is not JSON") from None

    def get_bytes(self, path_or_url: str, *, what: str = "") -> bytes | None:
        response = self._get(path_or_url, None, what, None, True)
        return response.content if response is not None else None

    def _get(
        self, path_or_url: str, params, what: str, page_size: int | None, missing_ok: bool
    ) -> httpx.Response | None:
        prefer = PREFER + (f", odata.maxpagesize={page_size}" if page_size else "")
        for attempt in (1, 2):
            # after a 401, a forced refresh: a revoked sign-in then fails at the sign-in service and is remembered
            token = getattr(self.token, "refresh", self.token) if attempt == 2 else self.token
            headers = {"Authorization": f"Bearer {token()}", "Prefer": prefer, "Accept": "application/json"}
            try:
                response = self.http.get(self.url(path_or_url), params=params, headers=headers)
            except httpx.TimeoutException as exc:
                raise TemporaryError(f"{self.where}: {what}: timed out ({exc})") from None
            except httpx.HTTPError as exc:
                raise TemporaryError(f"{self.where}: {what}: {type(exc).__name__}: {exc}") from None
            if response.status_code == 401 and attempt == 1:
                continue  # expired between our check and the server's, or revoked: refresh once
            return self._classify(response, what, missing_ok)
        raise AssertionError("unreachable")

    def _classify(self, response: httpx.Response, what: str, missing_ok: bool) -> httpx.Response | None:
        status = response.status_code
        if status < 300:
            return response
        code, message = _error_code(response)
        text = f"{self.where}: {what}: HTTP {status} {code}: {message}".rstrip(": ")
        if status == 404 and missing_ok:
            return None
        if status == 410 or code.lower() in RESYNC_CODES:
            raise CursorInvalid(text)
        if status == 401:
            raise AuthError(text, fix=f"run crm-agent accounts login {self.account}")
        if status == 403:
            raise AuthError(
                text,
                fix="grant the app the Graph permission this visibility needs (see docs/MICROSOFT.md), "
                "or lower the account's visibility",
            )
        if status in (429, 503, 504) or status >= 500:
            raise TemporaryError(text, retry_after=retry_after(response))
        raise TemporaryError(text)
