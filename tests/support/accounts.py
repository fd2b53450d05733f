"""Account settings for tests, built through the real config models (so tests exercise validation too)."""

from __future__ import annotations

from pathlib import Path

from agent.config.accounts import ImapAccount, LocalMailAccount


def imap_account(dovecot, user: str, *, name: str = "imap", security: str = "plain", **extra) -> ImapAccount:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    values = {"name": name, "kind": "imap", "host": dovecot.host, "port": port, "security": security,
              "username": user, "password": dovecot.users[user], **extra}
    if security != "plain":
        values.setdefault("ca_file", str(dovecot.cert_path))
    return ImapAccount.model_validate(values)


def maildir_account(path: Path, *, name: str = "local", **extra) -> LocalMailAccount:
    return LocalMailAccount.model_validate({"name": name, "kind": "maildir", "path": str(path), **extra})
