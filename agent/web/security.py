"""Who may read and change the status page: loopback or token, CSRF and Origin checks, read-only mode, headers.

The rules, in the order a request meets them:
- Reading needs nothing from a browser on this machine (a loopback client that asked for a loopback host name, with
  no proxy header); anything else needs the token, as ``Authorization: Bearer`` or the cookie the login form sets.
  The Host check stops DNS rebinding: a web site re-pointing its own name at 127.0.0.1 gets no page.
- Changing anything (any method but GET/HEAD/OPTIONS) needs the token whenever one is configured, a same-site
  Origin (or Referer), and a CSRF token bound to the ``crm_csrf`` cookie (hidden form field or X-CSRF-Token header).
- A read-only page refuses every change (403), whoever asks.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

SESSION_COOKIE = "crm_session"
CSRF_COOKIE = "crm_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
# The login page, its stylesheet and the liveness probe are reachable before signing in; they show no data.
PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = frozenset({"/login", "/healthz"})
# Signing in and out change no data, so a read-only page still allows them.
SESSION_PATHS = frozenset({"/login", "/logout"})
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts, which we refuse.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def is_loopback_ip(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def host_name(host_header: str) -> str:
    """The name part of a Host header value: 'localhost:8765' -> 'localhost', '[::1]:80' -> '::1'."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback_bind(host: str) -> bool:
    return host.lower() in LOOPBACK_NAMES or is_loopback_ip(host)


class Guard:
    """The access decisions for one app; ``token`` is the revealed secret or None."""

    def __init__(self, token: str | None, read_only: bool) -> None:
        self.token = token or None
        self.read_only = read_only
        # Per process: a restart invalidates open forms, and a forged token never matches.
        self._secret = secrets.token_bytes(32)
        self._session = (hmac.new(self.token.encode(), b"crm-agent web session", hashlib.sha256).hexdigest()
                         if self.token else None)

    # ------------------------------------------------------------------ who is asking

    def is_local(self, request: Request) -> bool:
        """A browser or script on this machine, talking to us directly under a loopback name."""
        client = request.client.host if request.client else None
        if not is_loopback_ip(client):
            return False
        if any(name in request.headers for name in PROXY_HEADERS):
            return False  # a reverse proxy on this machine forwards other machines' requests
        asked_for = host_name(request.headers.get("host", ""))
        return asked_for in LOOPBACK_NAMES or is_loopback_ip(asked_for)

    def token_matches(self, candidate: str | None) -> bool:
        return bool(self.token and candidate) and hmac.compare_digest(candidate.encode(), self.token.encode())

    def signed_in(self, request: Request) -> bool:
        if self.token is None:
            return False
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token_matches(value.strip()):
            return True
        cookie = request.cookies.get(SESSION_COOKIE)
        return bool(cookie) and hmac.compare_digest(cookie.encode(), self._session.encode())

    @property
    def session_value(self) -> str:
        if self._session is None:
            raise RuntimeError("no token configured: there is no session to open")
        return self._session

    # ------------------------------------------------------------------ CSRF

    @staticmethod
    def nonce_from(request: Request) -> tuple[str, bool]:
        """The request's CSRF nonce and whether it is new (then the response must set the cookie)."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if _NONCE.match(nonce):
            return nonce, False
        return secrets.token_urlsafe(32), True

    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, request: Request, submitted: str | None) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not submitted or not _NONCE.match(nonce):
            return False
        return hmac.compare_digest(submitted.encode(), self.csrf_token(nonce).encode())

    @staticmethod
    def same_origin(request: Request) -> bool:
        """Origin (else Referer) names this very host; a request with neither is a script, not a browser form."""
        own = request.headers.get("host", "").lower()
        origin = request.headers.get("origin")
        if origin is not None:
            return origin != "null" and urlsplit(origin).netloc.lower() == own
        referer = request.headers.get("referer")
        if referer is not None:
            return urlsplit(referer).netloc.lower() == own
        return True

    # ------------------------------------------------------------------ the decision

    def refusal(self, request: Request) -> tuple[int, str] | None:
        """(status, reason) when the request must be refused before it reaches a route; None to let it through."""
        path = request.url.path
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        signed_in = self.signed_in(request)
        if not public and not signed_in and not self.is_local(request):
            if self.token is None:
                return 401, "this page is only served to this machine (set [web] token to open it to others)"
            return 401, "sign in with the token (Authorization: Bearer, or the login form)"
        if request.method in SAFE_METHODS:
            return None
        if self.read_only and path not in SESSION_PATHS:
            return 403, "read-only page: changes are made where the agent runs"
        if self.token is not None and not signed_in and path not in SESSION_PATHS:
            return 401, "changes need the token (Authorization: Bearer, or the login form)"
        if not self.same_origin(request):
            return 403, "cross-site request refused (Origin/Referer is not this page)"
        return None


async def require_csrf(request: Request) -> None:
    """App-wide dependency: a change carries the CSRF token of its cookie, in a header or in the form."""
    if request.method in SAFE_METHODS:
        return
    guard: Guard = request.app.state.guard
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not guard.csrf_valid(request, submitted):
        raise HTTPException(403, "CSRF check failed: reload the page and try again")
