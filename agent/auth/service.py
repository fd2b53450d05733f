"""AuthService: the sign-in feature as AgentService exposes it (``service.feature("auth")``), JSON-ready answers."""

from __future__ import annotations

from collections.abc import Callable

from agent.auth.store import TokenGetter, TokenStore


class AuthService:
    """Sign-in, token status and token getters for the configured accounts."""

    def __init__(self, service, *, directory=None) -> None:
        self.service = service
        self.store = TokenStore(service.settings.accounts, directory=directory, clock=service.clock)

    def login(self, account_name: str, *, prompt: Callable[[str], None] | None = None) -> dict:
        """Run the account's sign-in (device code: ``prompt`` shows where to enter the code) and store the tokens."""
        tokens = self.store.tokens(account_name)
        tokens.login(prompt or (lambda message: None))
        status = self.token_status(account_name)
        return status[0] if status else {"account": account_name}

    def token_status(self, account_name: str | None = None) -> list[dict]:
        """Each OAuth2 account's token state, expiry and days left; ``warning`` is set 14 days ahead."""
        entries = self.store.status(self.service.clock.now())
        return [e for e in entries if account_name is None or e["account"] == account_name]

    def access_token_getter(self, account_name: str) -> TokenGetter:
        return self.store.access_token_getter(account_name)
