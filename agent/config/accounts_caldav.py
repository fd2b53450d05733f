"""Calendar account settings: a CalDAV server (``kind = "caldav"``) or a local folder of .ics files (``kind = "ics"``).

Both share the expansion window of recurring series: each occurrence between ``window_past_months`` before now
and ``window_future_months`` after now becomes a meeting on the timeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from agent.config.accounts import AccountBase, SecretField

DEFAULT_PAST_MONTHS = 24
DEFAULT_FUTURE_MONTHS = 12


class CalendarAccountBase(AccountBase):
    """Keys every calendar account has."""

    window_past_months: int = Field(default=DEFAULT_PAST_MONTHS, ge=0, le=240)
    window_future_months: int = Field(default=DEFAULT_FUTURE_MONTHS, ge=0, le=120)
    max_occurrences: int = Field(default=5000, ge=1, le=100_000)  # per calendar object (a runaway RRULE)
    timezone: str | None = None  # zone of floating times; None: the [global] timezone

    @property
    def is_mail(self) -> bool:
        return False


class CalDavAccount(CalendarAccountBase):
    """A CalDAV server (Radicale, Nextcloud, SOGo, Xandikos, Fastmail...)."""

    kind: Literal["caldav"]
    url: str = Field(min_length=1)  # the server, the principal or one calendar's URL
    username: str | None = None
    password: SecretField | None = None
    calendars: list[str] | None = None  # display names, ids or URL paths; None: every calendar holding events
    sync_method: Literal["auto", "sync-token", "ctag"] = "auto"  # auto: RFC 6578 when the server offers it
    ca_file: Path | None = None  # extra CA for a self-signed server
    verify_tls: bool = True
    timeout: float = Field(default=60.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f'"{value}" is not an http(s) URL (e.g. "https://dav.example.org/")')
        return value


class IcsFolderAccount(CalendarAccountBase):
    """A folder of .ics files (one object per file, as Radicale and vdirsyncer store them) or one .ics file."""

    kind: Literal["ics"]
    path: Path

    @field_validator("path")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


ACCOUNT_MODELS = (CalDavAccount, IcsFolderAccount)
