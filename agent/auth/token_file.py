"""The token cache on disk: one file per account, secrets sealed with Fernet, replaced atomically, never half-written.

File layout (JSON)::

    {"format": 1, "meta": {...}, "sealed": "<Fernet token>"}

``meta`` holds what is not secret (who signed in, expiry dates, the last refresh error) so ``status`` can warn
without the key; ``sealed`` is msal's serialized cache (access and refresh tokens), encrypted.

Why atomic: Microsoft rotates refresh tokens. The file must at every instant hold a usable refresh token, so a new
one is written to a temporary file, flushed to disk (fsync), then renamed over the old file (rename is atomic on
POSIX) and the directory is synced. A crash at any point leaves either the old file or the new one, never a mix.
Writers hold an exclusive lock on a sibling ``.lock`` file, so two processes never refresh one account at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from agent.errors import UserError
from agent.secrets import Secret

FORMAT = 1
KEY_ENV = "CRM_AGENT_TOKEN_KEY"
KEYRING_SERVICE = "crm-agent"
KEYRING_USER = "token-cache-key"


@dataclass
class TokenRecord:
    """One account's cache: plain ``meta`` and the secret msal cache text."""

    meta: dict[str, Any] = field(default_factory=dict)
    secret: str = ""


def resolve_key(explicit: Secret | None, *, create: bool = False) -> bytes:
    """The Fernet key: the account's ``token_key``, else $CRM_AGENT_TOKEN_KEY, else the system keyring.

    With ``create`` (at login), a missing keyring entry is generated and stored; without a usable keyring the
    person is told how to provide a key.
    """
    if explicit is not None:
        return _checked(explicit.reveal(), "oauth2.token_key")
    if os.environ.get(KEY_ENV):
        return _checked(os.environ[KEY_ENV], KEY_ENV)
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
            if stored:
                return _checked(stored, f"keyring {KEYRING_SERVICE}/{KEYRING_USER}")
            if create:
                fresh = Fernet.generate_key().decode()
                keyring.set_password(KEYRING_SERVICE, KEYRING_USER, fresh)
                return fresh.encode()
        except KeyringError:
            pass
    except ImportError:
        pass
    raise UserError(
        f"no key to encrypt the token cache: set {KEY_ENV} (make one with `crm-agent tokens new-key`), "
        "set oauth2.token_key, or install a keyring backend"
    )


def _checked(value: str, where: str) -> bytes:
    key = value.strip().encode()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise UserError(
            f"{where}: not a Fernet key (32 url-safe base64 bytes; `crm-agent tokens new-key` makes one)"
        ) from None
    return key


class TokenFile:
    """The cache file of one account. ``key`` is called only when secrets are read or written."""

    def __init__(self, path: Path, key: Callable[[], bytes]) -> None:
        self.path = path
        self._key = key

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.exists()

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise UserError(f"{self.path}: token cache unreadable ({exc}); sign in again to replace it") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise UserError(f"{self.path}: token cache of an unknown format; sign in again to replace it")
        return raw

    def read_meta(self) -> dict[str, Any] | None:
        """The plain part (expiry dates, who signed in); needs no key. None when nobody signed in yet."""
        raw = self._load()
        return dict(raw.get("meta") or {}) if raw is not None else None

    def read(self) -> TokenRecord | None:
        raw = self._load()
        if raw is None:
            return None
        try:
            secret = Fernet(self._key()).decrypt(raw["sealed"].encode()).decode()
        except (InvalidToken, KeyError, AttributeError):
            raise UserError(
                f"{self.path}: cannot decrypt the token cache with this key (was the key changed?); "
                "restore the key or sign in again"
            ) from None
        return TokenRecord(dict(raw.get("meta") or {}), secret)

    def write(self, record: TokenRecord) -> None:
        """Seal and replace the file atomically (temp file, fsync, rename, fsync of the directory)."""
        sealed = Fernet(self._key()).encrypt(record.secret.encode()).decode()
        payload = json.dumps({"format": FORMAT, "meta": record.meta, "sealed": sealed}, sort_keys=True).encode()
        atomic_write(self.path, payload)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across processes and threads (flock on a sibling file); stale temp files are swept inside."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.lock_path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                    with suppress(OSError):
                        stale.unlink()  # a crashed writer's leftover: never the live file
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old content or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a power cut after rename could otherwise bring the old entry back)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
