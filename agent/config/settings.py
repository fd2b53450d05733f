"""The settings model: what every key means, its default, and how it is checked."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, field_validator, model_validator

from agent.config.accounts import CreatePolicy, ImapAccount, LocalMailAccount, SecretField, Strict
from agent.paths import default_database_url

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> timedelta:
    """``"90s"``, ``"5m"``, ``"2 hours"``, ``"1d"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f'"{value}" is not a duration (try "90s", "5m", "2h", "1d")')
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)[0].lower()])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

def _account_models() -> tuple[type, ...]:
    """Every account kind: mail ones here, others from their feature's module (agent/config/accounts_*.py)."""
    import importlib

    models: list[type] = [ImapAccount, LocalMailAccount]
    for module_name in ("accounts_caldav", "accounts_microsoft"):
        try:
            module = importlib.import_module(f"agent.config.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"agent.config.{module_name}":
                raise
            continue
        models.extend(module.ACCOUNT_MODELS)
    return tuple(models)


ACCOUNT_MODELS = _account_models()
AccountSettings = Annotated[Union[ACCOUNT_MODELS], Field(discriminator="kind")]  # noqa: UP007 (runtime tuple)


class SyncSettings(Strict):
    batch_size: int = Field(default=500, ge=1, le=5000)  # items fetched and committed together
    list_page: int = Field(default=5000, ge=1, le=100000)  # refs listed per page
    poll_interval: Duration = timedelta(minutes=5)  # sources without push
    idle_renew: Duration = timedelta(minutes=10)  # IMAP IDLE is re-issued at least this often (< 29 min)
    stale_after: Duration = timedelta(minutes=30)  # an ONGOING stage older than this is reset at start-up
    backoff_cap: Duration = timedelta(hours=1)
    lag_warning: Duration = timedelta(hours=2)  # `status` exits non-zero beyond this
    empty_guard: int = Field(default=20, ge=0)  # a full listing of 0 items for a target holding more: refuse


class AliasDomain(Strict):
    plus_addressing: bool = False  # jean+crm@ is jean@
    ignore_dots: bool = False  # j.ean@ is jean@ (Gmail)
    canonical_domain: str | None = None  # googlemail.com -> gmail.com


class MatchingSettings(Strict):
    lowercase_local_part: bool = True
    create_contacts: CreatePolicy = "sent"
    skip_internal: bool = True  # mail between own addresses only is not logged
    blocklist: list[str] = []  # addresses or "@domain" never logged nor created
    free_mail_extra: list[str] = []
    aliases: dict[str, AliasDomain] = {}  # domain -> alias rules
    review_threshold: float = Field(default=0.80, ge=0, le=1)  # duplicates between the two go to review
    merge_threshold: float = Field(default=0.95, ge=0, le=1)  # duplicates above are merged automatically

    @model_validator(mode="after")
    def _thresholds(self) -> MatchingSettings:
        if self.review_threshold > self.merge_threshold:
            raise ValueError("review_threshold must not exceed merge_threshold")
        return self


class SmtpSettings(Strict):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["tls", "starttls", "plain"] = "starttls"
    username: str | None = None
    password: SecretField | None = None
    sender: str  # From address of rule emails
    timeout: float = 30.0


class WebSettings(Strict):
    bind: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    token: SecretField | None = None  # required when bind is not loopback
    enabled: bool = True


class RulesEngineSettings(Strict):
    manager_address: str = ""  # who "manager" means in rule actions (alerts, reports)
    manager_name: str = ""
    grace: Duration = timedelta(days=7)  # a timer later than this when claimed is marked missed, not fired
    lease: Duration = timedelta(minutes=5)  # a claimed timer or outbox row is another worker's after this
    claim_limit: int = Field(default=200, ge=1, le=10000)  # due timers claimed per tick
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff: Duration = timedelta(minutes=1)
    outbox_backoff_cap: Duration = timedelta(hours=1)
    webhook_timeout: float = Field(default=10.0, gt=0)
    smtp_timeout: float = Field(default=30.0, gt=0)


class DropFolderSettings(Strict):
    path: Path
    settle: Duration = timedelta(seconds=2)  # a file unchanged this long is complete

    @field_validator("path")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


class Settings(Strict):
    """The whole configuration. ``source`` is the file it came from (None for built-in defaults)."""

    database: str = Field(default_factory=default_database_url)
    timezone: str = "Europe/Paris"
    country: str = "FR"
    subdivision: str | None = None  # holidays of a region too, e.g. "Alsace-Moselle" (or "57")
    own_domains: list[str] = []
    own_addresses: list[str] = []  # own addresses outside own_domains (a founder's gmail...)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    sync: SyncSettings = SyncSettings()
    matching: MatchingSettings = MatchingSettings()
    accounts: list[AccountSettings] = []
    smtp: SmtpSettings | None = None
    web: WebSettings = WebSettings()
    dropfolder: DropFolderSettings | None = None
    rules: list[dict[str, Any]] = []  # checked by agent.rules.spec
    rules_engine: RulesEngineSettings = RulesEngineSettings()
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'"{value}" is not a time zone (try "Europe/Paris")') from None
        return value

    @field_validator("own_domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        return [v.strip().lower().lstrip("@") for v in values]

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        seen: set[str] = set()
        for account in self.accounts:
            if account.name in seen:
                raise ValueError(f"two accounts are named {account.name!r}")
            seen.add(account.name)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def account(self, name: str):
        for account in self.accounts:
            if account.name == name:
                return account
        return None


def fingerprint(model) -> str:
    """A digest of a settings model that changes when any value changes, literal secrets included (as digests)."""
    import hashlib
    import json

    from agent.secrets import Secret

    def plain(value):
        if isinstance(value, Secret):
            return {"secret": value.fingerprint}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    data = plain(model.model_dump(mode="python", exclude={"source"} if isinstance(model, Settings) else None))
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
