"""OAuth2 sign-in for Microsoft accounts (Graph, EWS, IMAP XOAUTH2): msal flows, an encrypted token cache, rotation.

- ``token_file``: one sealed file per account, replaced atomically.
- ``tokens``: ``AccountTokens`` (login, refresh before expiry, persist before use).
- ``store``: ``TokenStore`` for a configuration, ``TokenGetter`` handed to connectors, status per account.
- ``service``: ``AuthService`` (``AgentService.feature("auth")``).
- ``scopes``: the least scopes each account needs.
"""

from agent.auth.store import TokenGetter, TokenStore, token_status

__all__ = ["TokenGetter", "TokenStore", "token_status"]
