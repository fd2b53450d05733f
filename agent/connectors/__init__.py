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
    if token_store is None and _signs_in_with_oauth(account):
        from agent.auth.store import TokenStore

        token_store = TokenStore([account])
    if kind == "imap":
        from agent.connectors.imap import ImapConnector

        return ImapConnector(account, stop=stop, since=since or account.since, token_store=token_store)
    if kind == "caldav":
        from agent.connectors.caldav import CalDavConnector

        return CalDavConnector(account, stop=stop)
    if kind == "ics":
        from agent.connectors.caldav import IcsFolderConnector

        return IcsFolderConnector(account.name, account.path, stop=stop)
    if kind == "ews":
        from agent.connectors.ews import EwsConnector

        return EwsConnector(account, stop=stop, since=since or account.since, token_store=token_store)
    if kind == "m365":
        from agent.connectors.graph.connector import GraphConnector

        return GraphConnector(account, stop=stop, since=since or account.since, token_store=token_store)
    raise UserError(f"account {account.name}: kind {kind!r} is not supported by this version")


def _signs_in_with_oauth(account: Any) -> bool:
    """Accounts whose tokens agent.auth keeps (an IMAP account with a static oauth2_token does not need it)."""
    if account.kind == "m365":
        return True
    if account.kind == "ews":
        return account.auth == "oauth2"
    return account.kind == "imap" and account.auth == "oauth2" and bool(account.oauth2)
