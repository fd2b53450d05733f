"""Connector registry: builds the connector for an account's settings. Client libraries are imported lazily."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from agent.connectors.base import Connector
from agent.errors import UserError


def make_connector(account: Any, *, stop: threading.Event | None = None, since: date | None = None,
                   token_store: Any = None) -> Connector:
    """The connector for one account; ``since`` overrides the account's first-backfill date."""
    kind = account.kind
    if kind in ("maildir", "mbox"):
        from agent.connectors.localmail import LocalMailConnector

        return LocalMailConnector(account.name, account.path, fmt=kind, folders=account.folders, stop=stop)
    if kind == "imap":
        from agent.connectors.imap import ImapConnector

        return ImapConnector(account, stop=stop, since=since or account.since, token_store=token_store)
    if kind == "caldav":
        from agent.connectors.caldav import CalDavConnector

        return CalDavConnector(account, stop=stop)
    if kind == "ics":
        from agent.connectors.caldav import IcsFolderConnector

        return IcsFolderConnector(account.name, account.path, stop=stop)
    raise UserError(f"account {account.name}: kind {kind!r} is not supported by this version")
