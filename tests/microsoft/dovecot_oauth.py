"""A second Dovecot configuration: the shared harness's Dovecot plus an oauth2 passdb for SASL XOAUTH2 / OAUTHBEARER.

Dovecot 2.3 validates a bearer token by RFC 7662 introspection: it POSTs ``token=...`` to ``introspection_url``
and accepts the login when the answer says ``"active": true`` and its ``username`` equals the IMAP user. Here the
introspection endpoint is a plain-HTTP front for the local sign-in service, so a token msal obtained through the
device-code flow is checked by Dovecot itself, exactly as an IMAP server checks a Microsoft token.

The shared harness is untouched: this subclass only adds to the config it writes.
"""

from __future__ import annotations

from pathlib import Path

from tests.harness import Dovecot
from tests.microsoft.http_base import ProtocolServer, Request, Response

_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {path}
}}
"""
_OAUTH2 = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""


class IntrospectionFront(ProtocolServer):
    """``POST /introspect`` over plain HTTP (Dovecot's side), answered by the IdentityServer's token table."""

    name = "introspection"

    def __init__(self, identity) -> None:
        super().__init__()
        self.identity = identity

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/introspect":
            return Response(404, b"")
        grant = self.identity.grant_for(request.form().get("token", ""))
        if grant is None:
            return Response.json({"active": False})
        return Response.json({"active": True, "username": grant.username, "scope": " ".join(grant.scopes)})


class OAuthDovecot(Dovecot):
    name = "dovecot-oauth2"

    def __init__(self, root: Path, introspection_url: str) -> None:
        super().__init__(root)
        self.introspection_url = introspection_url

    def _prepare(self, binary: str) -> None:
        super()._prepare(binary)
        settings = self.root / "dovecot-oauth2.conf.ext"
        settings.write_text(_OAUTH2.format(url=self.introspection_url))
        self.account.give(settings)
        config = self.config_path.read_text()
        config = config.replace("auth_mechanisms = plain login", "auth_mechanisms = plain login xoauth2 oauthbearer")
        config = config.replace("passdb {", _PASSDB.format(path=settings) + "passdb {", 1)
        self.config_path.write_text(config)
