"""Account settings for Microsoft sources: Exchange on-premises (EWS), Microsoft 365 (Graph) and OAuth2 sign-in.

Which one to use (docs/MICROSOFT.md says why):

- ``kind = "ews"``: an Exchange Server in the company's own rooms (2013, 2016, 2019, Subscription Edition).
  Server version and auth type are written in the config, so no request is spent probing them.
- ``kind = "m365"``: a Microsoft 365 / Exchange Online mailbox, through Microsoft Graph. EWS in Exchange Online is
  blocked by default from 2026-10-01 and switched off on 2027-04-01.
- IMAP with ``auth = "oauth2"`` (agent.config.accounts.ImapAccount): its ``oauth2`` table is read with
  ``OAuthSettings`` below.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from agent.config.accounts import AccountBase, SecretField, Strict

MICROSOFT_LOGIN = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
_BUILD = re.compile(r"^\d+\.\d+(\.\d+){0,2}$")
EWS_API_VERSIONS = (
    "Exchange2007_SP1",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2016",
)


class OAuthSettings(Strict):
    """How crm-agent signs in to Microsoft: a person (device code) or the organisation's app (client credentials)."""

    provider: Literal["microsoft"] = "microsoft"
    client_id: str = Field(min_length=1)  # the app registration's "Application (client) ID"
    tenant: str = "organizations"  # tenant id or domain; "organizations" lets any work account sign in
    flow: Literal["device_code", "client_credentials"] = "device_code"
    client_secret: SecretField | None = None  # client credentials only
    secret_expires: date | None = None  # when the client secret expires, so `status` warns 14 days ahead
    authority: str | None = None  # default: https://login.microsoftonline.com/<tenant> (national clouds differ)
    scopes: list[str] | None = None  # default: the least each use needs (see agent.auth.scopes)
    token_key: SecretField | None = None  # Fernet key of the token cache; default $CRM_AGENT_TOKEN_KEY or the keyring
    refresh_token_days: int = Field(default=90, ge=1, le=3650)  # Microsoft's refresh token inactivity lifetime
    ca_file: Path | None = None  # extra CA for a private authority (tests, proxies)

    @model_validator(mode="after")
    def _flow_needs(self) -> OAuthSettings:
        if self.flow == "client_credentials" and self.client_secret is None:
            raise ValueError('flow = "client_credentials" needs client_secret')
        return self

    @property
    def authority_url(self) -> str:
        return (self.authority or f"{MICROSOFT_LOGIN}/{self.tenant}").rstrip("/")


class CalendarWindow(Strict):
    """Mixin keys: which meetings of a calendar are synced (occurrences of a series are expanded in this window)."""

    calendar: bool = True
    calendar_past_days: int = Field(default=365, ge=0, le=3650)
    calendar_future_days: int = Field(default=180, ge=1, le=1830)


class EwsAccount(AccountBase, CalendarWindow):
    """An on-premises Exchange mailbox through EWS (exchangelib)."""

    kind: Literal["ews"]
    email: str  # the mailbox's primary SMTP address
    url: str | None = None  # https://mail.example.fr/EWS/Exchange.asmx (needed unless autodiscover)
    autodiscover: bool = False  # find the URL and version from the address (extra round trips)
    server_version: str = "Exchange2016"  # an EWS API version name, or a build number such as "15.1.2507.6"
    auth: Literal["ntlm", "basic", "oauth2"] = "ntlm"
    username: str | None = None  # DOMAIN\\user or user@domain; default: email
    password: SecretField | None = None
    oauth2: OAuthSettings | None = None
    folders: list[str] | None = None  # default: Inbox and Sent Items; names below the mailbox root, "/" between levels
    ca_file: Path | None = None  # extra CA for the server's certificate
    timeout: float = Field(default=60.0, gt=0)

    @field_validator("server_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value in EWS_API_VERSIONS or _BUILD.match(value):
            return value
        raise ValueError(
            f'"{value}" is neither an EWS version ({", ".join(EWS_API_VERSIONS)}) nor a build like "15.1.2507.6"'
        )

    @model_validator(mode="after")
    def _consistent(self) -> EwsAccount:
        if not self.url and not self.autodiscover:
            raise ValueError("url is required (or set autodiscover = true)")
        if self.auth == "oauth2" and self.oauth2 is None:
            raise ValueError('auth = "oauth2" needs an [accounts.oauth2] table')
        if self.auth in ("ntlm", "basic") and self.password is None:
            raise ValueError(f'auth = "{self.auth}" needs password')
        return self

    @property
    def login(self) -> str:
        return self.username or self.email


class M365Account(AccountBase, CalendarWindow):
    """A Microsoft 365 mailbox through Microsoft Graph."""

    kind: Literal["m365"]
    mailbox: str  # the user's address (user principal name)
    oauth2: OAuthSettings
    folders: list[str] | None = None  # default: inbox and sentitems; well-known names or display paths "A/B"
    graph_url: str = GRAPH_URL
    page_size: int = Field(default=100, ge=1, le=1000)  # Prefer: odata.maxpagesize
    timeout: float = Field(default=60.0, gt=0)

    @field_validator("graph_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f'"{value}" must be an https URL')
        return value.rstrip("/")

    @property
    def user_path(self) -> str:
        """``/me`` for a person's own sign-in, ``/users/<mailbox>`` for the organisation's app."""
        return "/me" if self.oauth2.flow == "device_code" else f"/users/{self.mailbox}"


ACCOUNT_MODELS = (EwsAccount, M365Account)


def oauth_settings(account) -> OAuthSettings | None:
    """The OAuth settings of any account kind, or None when it signs in otherwise (an IMAP ``oauth2`` table is read
    here, so a mistake in it is reported with its key path)."""
    from pydantic import ValidationError

    from agent.errors import UserError

    if account.kind in ("ews", "m365"):
        return account.oauth2 if getattr(account, "auth", "oauth2") == "oauth2" else None
    if account.kind == "imap" and account.auth == "oauth2" and account.oauth2:
        try:
            return OAuthSettings.model_validate(account.oauth2)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise UserError(f"accounts.{account.name}.oauth2{'.' + where if where else ''}: {first['msg']}") from None
    return None
