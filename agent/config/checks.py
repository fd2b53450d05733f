"""Deeper checks than parsing: every secret can be read, paths exist; used by `config check`."""

from __future__ import annotations

from agent.config.settings import Settings
from agent.errors import UserError
from agent.config.loader import iter_secrets


def check_settings(settings: Settings) -> dict:
    problems: list[str] = []
    accounts = []
    for index, account in enumerate(settings.accounts):
        accounts.append({"name": account.name, "kind": account.kind})
        path = getattr(account, "path", None)
        if path is not None and not path.exists():
            problems.append(f"accounts[{index}].path: {path} does not exist")
    for _, secret in iter_secrets(settings):
        try:
            secret.reveal()
        except UserError as exc:
            problems.append(exc.message)
    if settings.web.bind not in ("127.0.0.1", "localhost", "::1") and settings.web.token is None:
        problems.append(f"web.token: required when web.bind is {settings.web.bind!r} (not loopback)")
    return {"source": str(settings.source or "(built-in defaults)"), "ok": not problems, "problems": problems,
            "accounts": accounts, "rules": len(settings.rules)}
