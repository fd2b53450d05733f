"""Build settings and a service over a throwaway store, the way the CLI does, for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.clock import Clock
from agent.config import Settings
from agent.service import AgentService


def make_settings(tmp: Path, accounts: list[dict[str, Any]] | None = None, *, database: str | None = None,
                  **overrides: Any) -> Settings:
    raw: dict[str, Any] = {
        "database": database or f"sqlite:///{tmp / 'crm.db'}",
        "own_domains": ["atelier-durand.fr"],
        "accounts": accounts or [],
        **overrides,
    }
    return Settings.model_validate(raw)


def make_service(tmp: Path, accounts: list[dict[str, Any]] | None = None, *, clock: Clock | None = None,
                 **overrides: Any) -> AgentService:
    return AgentService(make_settings(tmp, accounts, **overrides), clock=clock)


def maildir_spec(path: Path, name: str = "local", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "maildir", "path": str(path), **extra}


def imap_spec(dovecot, user: str, name: str = "imap", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "imap", "host": dovecot.host, "port": dovecot.port, "security": "plain",
            "username": user, "password": dovecot.users[user], **extra}
