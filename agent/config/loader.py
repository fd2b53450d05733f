"""Read a TOML config file, validate it whole, and turn every problem into one line with its key path."""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.config.settings import Settings
from agent.errors import UserError
from agent.paths import default_config_file
from agent.secrets import Secret


def find_config_file(explicit: Path | None = None) -> Path | None:
    """``--config``, else ``$CRM_AGENT_CONFIG``, else the XDG default if it exists."""
    if explicit is not None:
        return explicit
    if env := os.environ.get("CRM_AGENT_CONFIG"):
        return Path(env)
    default = default_config_file()
    return default if default.exists() else None


def load_config(path: Path | None) -> Settings:
    """Settings from ``path`` (built-in defaults when None). Raises UserError listing every problem."""
    if path is None:
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found (create one with `crm-agent init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read config file: {exc}") from None
    return load_config_text(text, source=path)


def load_config_text(text: str, source: Path | None = None) -> Settings:
    label = str(source) if source else "<config>"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{label}: invalid TOML: {exc}") from None
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_describe(error, raw) for error in exc.errors())
    problems.extend(_rule_problems(raw))
    if problems:
        body = "\n".join(f"{label}: {p}" for p in problems)
        raise UserError(body)
    assert settings is not None
    _label_secrets(settings)
    return settings.model_copy(update={"source": source})


def _rule_problems(raw: dict[str, Any]) -> list[str]:
    rules = raw.get("rules", [])
    if not rules:
        return []
    try:
        from agent.rules.spec import validate_rules
    except ImportError:  # the rule layer is optional at this level
        return []
    problems = validate_rules(rules, timezone=str(raw.get("timezone", "Europe/Paris")), country=str(raw.get("country", "FR")),
                              subdiv=raw.get("subdivision"))
    # timezone/country problems are already reported by the settings model
    return [p for p in problems if p.startswith("rules")]


ACCOUNT_KINDS = ("imap", "maildir", "mbox", "caldav", "ews", "m365")


def key_path(loc: tuple[Any, ...]) -> str:
    """('accounts', 1, 'imap', 'host') -> 'accounts[1].host' (the union tag pydantic inserts is dropped)."""
    out = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif index >= 2 and loc[index - 2] == "accounts" and isinstance(loc[index - 1], int) and part in ACCOUNT_KINDS:
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(error: dict[str, Any], raw: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    path = key_path(loc) or "(top level)"
    kind = error.get("type", "")
    if kind == "missing":
        return f"{path}: missing"
    if kind == "extra_forbidden":
        name = str(loc[-1])
        hint = _did_you_mean(name, _siblings(loc))
        return f"{path}: unknown key{hint}"
    if kind == "union_tag_invalid":
        tag = error.get("input", {}).get("kind") if isinstance(error.get("input"), dict) else None
        return f"{path}.kind: {tag!r} is not a known account kind ({error['ctx'].get('expected_tags', '')})"
    if kind == "union_tag_not_found":
        return f"{path}.kind: missing"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    given = error.get("input")
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "literal_error":
        return f"{path}: {message} (got {given!r})"
    return f"{path}: {message}"


def _siblings(loc: tuple[Any, ...]) -> list[str]:
    from agent.config import settings as st

    models = [st.Settings, st.SyncSettings, st.MatchingSettings, st.SmtpSettings, st.WebSettings,
              st.DropFolderSettings, st.RulesEngineSettings, *st.ACCOUNT_MODELS]
    names: set[str] = set()
    parent = [p for p in loc[:-1] if isinstance(p, str)]
    for model in models:
        fields = set(model.model_fields)
        if not parent and model is st.Settings:
            return sorted(fields)
        names |= fields
    return sorted(names)


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def iter_secrets(value, path: str = ""):
    """Every Secret inside a settings model, with its key path (``accounts[1].oauth.client_secret``)."""
    from pydantic import BaseModel

    if isinstance(value, Secret):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from iter_secrets(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from iter_secrets(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_secrets(item, f"{path}.{key}")


def _label_secrets(settings: Settings) -> None:
    """Give every Secret its key path, so a failed lookup names the key."""
    for path, secret in iter_secrets(settings):
        secret.bind_key_path(path)
