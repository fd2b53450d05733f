"""Secret references (``env:``, ``cmd:``, ``keyring:``, literal), resolved only when a connection needs them.

A ``Secret`` never shows its value in ``repr``, logs or JSON: it prints as its *source* ("env:IMAP_PASSWORD") or
``"***"`` for a literal.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from agent.errors import UserError


class Secret:
    """A reference to a secret; ``reveal()`` resolves it, ``str()`` never does."""

    __slots__ = ("_spec", "_where")

    def __init__(self, spec: str, where: str = "") -> None:
        self._spec = spec
        self._where = where

    @property
    def source(self) -> str:
        scheme = self._spec.split(":", 1)[0] if ":" in self._spec else ""
        return self._spec if scheme in ("env", "cmd", "keyring") else "***"

    def __repr__(self) -> str:
        return f"Secret({self.source!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash(self._spec)

    @property
    def fingerprint(self) -> str:
        """A digest of the reference (not of the resolved value): changes when the config's secret changes."""
        import hashlib

        return hashlib.sha256(self._spec.encode()).hexdigest()[:16]

    def bind_key_path(self, where: str) -> None:
        """Name the config key this secret came from, for error messages."""
        self._where = where

    def reveal(self) -> str:
        """The secret value; UserError naming the config key when the source cannot give it."""
        scheme, _, rest = self._spec.partition(":")
        where = f"{self._where}: " if self._where else ""
        if scheme == "env":
            value = os.environ.get(rest)
            if value is None:
                raise UserError(f"{where}environment variable {rest} is not set")
            return value
        if scheme == "cmd":
            try:
                done = subprocess.run(shlex.split(rest), capture_output=True, text=True, timeout=30, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise UserError(f"{where}command {rest.split()[0]!r} failed: {exc}") from None
            if done.returncode != 0:
                raise UserError(f"{where}command {rest.split()[0]!r} exited with {done.returncode}")
            return done.stdout.rstrip("\n").split("\n", 1)[0]  # like `pass`: the first line is the secret
        if scheme == "keyring":
            service, _, user = rest.partition("/")
            try:
                import keyring

                value = keyring.get_password(service, user)
            except Exception as exc:  # keyring backends raise their own types
                raise UserError(f"{where}keyring lookup {service}/{user} failed: {exc}") from None
            if value is None:
                raise UserError(f"{where}no keyring entry for service {service!r}, user {user!r}")
            return value
        return self._spec
