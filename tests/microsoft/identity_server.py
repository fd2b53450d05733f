"""A sign-in service on 127.0.0.1 speaking the Microsoft identity platform's OAuth2 endpoints, for msal.

Built from Microsoft's documentation of the v2.0 endpoints (OpenID discovery document, device authorization
grant RFC 8628, refresh_token and client_credentials grants, error codes such as ``authorization_pending`` and
``invalid_grant``), plus RFC 7662 token introspection for Dovecot's oauth2 passdb.

Behaviour that matters to crm-agent:
- refresh tokens rotate: every refresh answers a new one; the old one stays valid until it expires, as Microsoft
  documents (``strict_rotation`` makes a used one invalid at once, to test the worst case);
- ``revoke(username)`` invalidates every token of a user (password change, admin revocation);
- each grant records the scopes asked, so tests can check least privilege; each access token remembers its scopes
  so the Graph server can refuse what they do not allow.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field

from tests.microsoft.http_base import ProtocolServer, Request, Response

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass
class Grant:
    username: str
    scopes: list[str]
    client_id: str
    issued: float = field(default_factory=time.time)
    revoked: bool = False


class IdentityServer(ProtocolServer):
    """``authority = f"{server.base_url}/{tenant}"``; msal needs https, so this server always runs TLS."""

    name = "identity-server"

    def __init__(self, directory, *, tenant: str = "contoso") -> None:
        super().__init__(directory, tls=True)
        self.tenant = tenant
        self.users: dict[str, str] = {}  # device-code users: username -> display name
        self.clients: dict[str, str | None] = {}  # client_id -> secret (None: public client)
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.device_codes: dict[str, dict] = {}  # device_code -> {"user_code", "approved_by", "scopes", "client_id"}
        self.token_requests: list[dict[str, str]] = []
        self.expires_in = 3600
        self.strict_rotation = False
        self.down = False  # answer 503 temporarily_unavailable
        self.auto_approve: str | None = None  # a user who approves every new device code at once (CLI tests)

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant}"

    # ---- test controls --------------------------------------------------------------------------------------
    def add_client(self, client_id: str, secret: str | None = None) -> None:
        self.clients[client_id] = secret

    def approve(self, user_code: str, username: str) -> None:
        """What the person does in the browser: enter the code and consent."""
        with self.lock:
            for entry in self.device_codes.values():
                if entry["user_code"] == user_code:
                    entry["approved_by"] = username
                    return
        raise KeyError(user_code)

    def revoke(self, username: str) -> None:
        with self.lock:
            for grant in [*self.access_tokens.values(), *self.refresh_tokens.values()]:
                if grant.username == username:
                    grant.revoked = True

    def grant_for(self, access_token: str) -> Grant | None:
        grant = self.access_tokens.get(access_token)
        return grant if grant is not None and not grant.revoked else None

    def latest_refresh_token(self) -> str:
        return list(self.refresh_tokens)[-1]

    # ---- protocol -------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        prefix = f"/{self.tenant}"
        if request.method == "GET" and request.path == f"{prefix}/v2.0/.well-known/openid-configuration":
            return Response.json(
                {
                    "issuer": f"{self.authority}/v2.0",
                    "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{self.authority}/oauth2/v2.0/token",
                    "device_authorization_endpoint": f"{self.authority}/oauth2/v2.0/devicecode",
                }
            )
        if self.down:
            return Response.json({"error": "temporarily_unavailable", "error_description": "AADSTS: try again"}, 503)
        if request.method == "POST" and request.path == f"{prefix}/oauth2/v2.0/devicecode":
            return self._device_code(request.form())
        if request.method == "POST" and request.path == f"{prefix}/oauth2/v2.0/token":
            form = request.form()
            with self.lock:
                self.token_requests.append(form)
            return self._token(form)
        if request.method == "POST" and request.path == "/introspect":
            return self._introspect(request.form())
        return Response.json(
            {"error": "invalid_request", "error_description": f"not implemented: {request.method} {request.path}"}, 400
        )

    def _device_code(self, form: dict[str, str]) -> Response:
        if form.get("client_id") not in self.clients:
            return Response.json(
                {"error": "unauthorized_client", "error_description": "AADSTS700016: unknown app"}, 400
            )
        device_code, user_code = secrets.token_urlsafe(16), secrets.token_hex(4).upper()
        with self.lock:
            self.device_codes[device_code] = {
                "user_code": user_code,
                "approved_by": self.auto_approve,
                "scopes": form.get("scope", "").split(),
                "client_id": form["client_id"],
            }
        uri = f"{self.base_url}/devicelogin"
        return Response.json(
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": uri,
                "expires_in": 900,
                "interval": 1,
                "message": f"To sign in, open {uri} and enter the code {user_code} to authenticate.",
            }
        )

    def _token(self, form: dict[str, str]) -> Response:
        grant_type = form.get("grant_type")
        client_id = form.get("client_id", "")
        if client_id not in self.clients:
            return self._error("unauthorized_client", "AADSTS700016: application not found")
        scopes = [s for s in form.get("scope", "").split() if s]
        with self.lock:
            if grant_type == DEVICE_GRANT:
                entry = self.device_codes.get(form.get("device_code", ""))
                if entry is None:
                    return self._error("expired_token", "AADSTS70020: device code expired")
                if entry["approved_by"] is None:
                    return self._error("authorization_pending", "AADSTS70016: pending")
                del self.device_codes[form["device_code"]]
                return self._issue(Grant(entry["approved_by"], scopes or entry["scopes"], client_id), refresh=True)
            if grant_type == "refresh_token":
                old = self.refresh_tokens.get(form.get("refresh_token", ""))
                if old is None or old.revoked:
                    return self._error("invalid_grant", "AADSTS700082: The refresh token has expired or was revoked.")
                if self.strict_rotation:
                    old.revoked = True
                return self._issue(Grant(old.username, scopes or old.scopes, client_id), refresh=True)
            if grant_type == "client_credentials":
                if self.clients.get(client_id) is None or form.get("client_secret") != self.clients[client_id]:
                    return self._error("invalid_client", "AADSTS7000215: Invalid client secret provided.")
                return self._issue(Grant(f"app:{client_id}", scopes, client_id), refresh=False)
        return self._error("unsupported_grant_type", f"grant {grant_type!r}")

    def _issue(self, grant: Grant, *, refresh: bool) -> Response:
        access = f"at-{secrets.token_urlsafe(18)}"
        self.access_tokens[access] = grant
        body = {
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": access,
        }
        if refresh:
            refresh_token = f"rt-{secrets.token_urlsafe(18)}"
            self.refresh_tokens[refresh_token] = grant
            now = int(time.time())
            oid = base64.b16encode(grant.username.encode()).decode()[:32].lower()
            claims = {
                "iss": f"{self.authority}/v2.0",
                "aud": grant.client_id,
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "sub": oid,
                "oid": oid,
                "tid": self.tenant,
                "preferred_username": grant.username,
                "name": self.users.get(grant.username, grant.username),
                "ver": "2.0",
            }
            body.update(
                refresh_token=refresh_token,
                client_info=_b64({"uid": oid, "utid": self.tenant}),
                id_token=f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
            )
        return Response.json(body)

    def _introspect(self, form: dict[str, str]) -> Response:
        grant = self.grant_for(form.get("token", ""))
        if grant is None:
            return Response.json({"active": False})
        return Response.json(
            {
                "active": True,
                "username": grant.username,
                "scope": " ".join(grant.scopes),
                "client_id": grant.client_id,
                "token_type": "Bearer",
            }
        )

    @staticmethod
    def _error(code: str, description: str, status: int = 400) -> Response:
        return Response.json({"error": code, "error_description": description, "error_codes": [0]}, status)
