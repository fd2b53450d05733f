"""Opt-in checks against a real Microsoft 365 tenant or a real Exchange server; skipped unless credentials are set.

Everything here only reads (one listing page, one item). Run with ``pytest -m live tests/microsoft/test_live.py``
after exporting the variables each test names (docs/MICROSOFT.md, "Checking against your own tenant").
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from agent.auth.store import TokenStore
from agent.config.settings import Settings
from agent.connectors.ews.connector import EwsConnector
from agent.connectors.graph.connector import GraphConnector
from agent.connectors.imap import ImapConnector
from agent.pipeline.parse_email import parse_email

pytestmark = pytest.mark.live


def one_page(connector, target):
    changes = connector.list_changes(target, "", limit=5)
    assert changes.is_full and changes.next_cursor
    return changes


def test_graph_with_the_organisations_app(live_credentials, tmp_path):
    env = live_credentials("M365_TENANT_ID", "M365_CLIENT_ID", "M365_CLIENT_SECRET", "M365_MAILBOX")
    settings = Settings.model_validate(
        {
            "accounts": [
                {
                    "name": "live-m365",
                    "kind": "m365",
                    "mailbox": env["M365_MAILBOX"],
                    "visibility": "metadata",
                    "oauth2": {
                        "client_id": env["M365_CLIENT_ID"],
                        "tenant": env["M365_TENANT_ID"],
                        "flow": "client_credentials",
                        "client_secret": "env:M365_CLIENT_SECRET",
                        "token_key": Fernet.generate_key().decode(),
                    },
                }
            ]
        }
    )
    connector = GraphConnector(settings.accounts[0], token_store=TokenStore(settings.accounts, directory=tmp_path))
    try:
        targets = connector.discover()
        inbox = next(t for t in targets if t.role == "inbox")
        changes = one_page(connector, inbox)
        for raw in connector.fetch(inbox, changes.upserts[:1]):
            assert parse_email(raw.data).from_
        calendar = next((t for t in targets if t.kind == "calendar"), None)
        if calendar is not None:
            one_page(connector, calendar)
    finally:
        connector.close()


def test_exchange_on_premises_through_ews(live_credentials):
    env = live_credentials("EWS_URL", "EWS_EMAIL", "EWS_PASSWORD")
    settings = Settings.model_validate(
        {
            "accounts": [
                {
                    "name": "live-ews",
                    "kind": "ews",
                    "url": env["EWS_URL"],
                    "email": env["EWS_EMAIL"],
                    "username": os.environ.get("EWS_USERNAME") or env["EWS_EMAIL"],
                    "password": "env:EWS_PASSWORD",
                    "auth": os.environ.get("EWS_AUTH", "ntlm"),
                    "server_version": os.environ.get("EWS_VERSION", "Exchange2016"),
                    "visibility": "metadata",
                    "ca_file": os.environ.get("EWS_CA_FILE") or None,
                }
            ]
        }
    )
    connector = EwsConnector(settings.accounts[0])
    try:
        targets = connector.discover()
        inbox = next(t for t in targets if t.role == "inbox")
        changes = one_page(connector, inbox)
        for raw in connector.fetch(inbox, changes.upserts[:1]):
            assert parse_email(raw.data).from_
        one_page(connector, next(t for t in targets if t.kind == "calendar"))
    finally:
        connector.close()


def test_imap_xoauth2_with_a_signed_in_account(live_credentials):
    """Uses a token cache made beforehand with `crm-agent accounts login` (a person must approve the device code)."""
    env = live_credentials(
        "M365_IMAP_USER", "M365_CLIENT_ID", "M365_TENANT_ID", "CRM_AGENT_TOKEN_KEY", "M365_TOKEN_DIR"
    )
    settings = Settings.model_validate(
        {
            "accounts": [
                {
                    "name": "live-imap",
                    "kind": "imap",
                    "host": "outlook.office365.com",
                    "username": env["M365_IMAP_USER"],
                    "auth": "oauth2",
                    "oauth2": {"client_id": env["M365_CLIENT_ID"], "tenant": env["M365_TENANT_ID"]},
                }
            ]
        }
    )
    store = TokenStore(settings.accounts, directory=Path(env["M365_TOKEN_DIR"]))
    connector = ImapConnector(settings.accounts[0], token_store=store)
    try:
        inbox = next(t for t in connector.discover() if t.role == "inbox")
        one_page(connector, inbox)
    finally:
        connector.close()
