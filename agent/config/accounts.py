"""Account settings, one model per connector kind, selected by the ``kind`` key."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from agent.records import Visibility
from agent.secrets import Secret

SecretField = Annotated[
    Secret,
    BeforeValidator(lambda v: v if isinstance(v, Secret) else Secret(str(v))),
    PlainSerializer(lambda s: s.source, return_type=str, when_used="json"),
]
CreatePolicy = Literal["none", "sent", "sent_and_received"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class AccountBase(Strict):
    """Keys every account has."""

    name: str = Field(pattern=NAME_PATTERN)
    enabled: bool = True
    visibility: Visibility = Visibility.SNIPPET
    create_contacts: CreatePolicy | None = None  # None: the [matching] default
    owner: str | None = None  # the mailbox owner's address; outgoing mail is From it
    since: date | None = None  # first backfill starts here

    @property
    def is_mail(self) -> bool:
        return True


class ImapAccount(AccountBase):
    kind: Literal["imap"]
    host: str
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["tls", "starttls", "plain"] = "tls"
    username: str
    auth: Literal["password", "oauth2"] = "password"
    password: SecretField | None = None
    oauth2_token: SecretField | None = None  # XOAUTH2 access token from a secret source
    oauth2: dict[str, Any] | None = None  # provider settings for `accounts login` (issue: Microsoft)
    folders: list[str] | None = None  # None: INBOX + Sent (discovered)
    ca_file: Path | None = None  # extra CA for self-signed servers
    timeout: float = Field(default=60.0, gt=0)
    idle: bool = True

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


class LocalMailAccount(AccountBase):
    """A local Maildir (Maildir++ subfolders) or mbox file, as written by Thunderbird, mbsync, offlineimap."""

    kind: Literal["maildir", "mbox"]
    path: Path
    folders: list[str] | None = None

    @field_validator("path")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()
