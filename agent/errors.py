"""The one error hierarchy: every failure is classified once, at the edge, into one of these classes.

- ``TemporaryError``: the network, a throttling server, a 5xx. Retry later; ``retry_after`` (seconds) is the
  server's own hint when it gave one.
- ``AuthError``: bad, expired or revoked credentials. Never retried until the configuration changes.
- ``CursorInvalid``: the server no longer accepts the stored cursor (UIDVALIDITY changed, invalid sync-token,
  EWS invalid sync state, Graph 410). The engine answers with a full resync, safe because writes are idempotent.
- ``UserError``: bad configuration or input. Shown as one line naming what is wrong and where; exit code 2.

Connectors, parsers and the CLI raise only these (or let programming errors propagate as bugs).
"""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error crm-agent raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemporaryError(AgentError):
    """A failure that may go away by itself; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(AgentError):
    """Credentials were refused; ``fix`` tells the person what to do about it."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class CursorInvalid(AgentError):
    """The stored cursor is no longer valid on the server; a full resync is needed."""


class UserError(AgentError):
    """Bad configuration, file or command-line input, reported as one line and exit code 2."""

    exit_code = 2


class RemoteUnexpectedlyEmpty(AgentError):
    """A full listing returned nothing for a target that held many items; refusing to delete anything."""
