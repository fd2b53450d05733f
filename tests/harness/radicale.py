"""Runs a private Radicale CalDAV server on 127.0.0.1 with htpasswd users and filesystem storage.

Radicale re-reads its htpasswd file on each request, so users can be added while it runs. Large calendars are best
written straight into its storage (``write_ics_files``): each PUT through HTTP costs time that grows with the
collection, while a file write costs nothing and Radicale indexes the files on the next request.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from .process import (
    INSTALL_HINT,
    LOOPBACK,
    LoopbackServer,
    MissingServerSoftware,
    ServerProcess,
    free_port,
    make_server_dir,
)

_CONFIG = """\
[server]
hosts = {host}:{port}
[auth]
type = htpasswd
htpasswd_filename = {root}/users
htpasswd_encryption = plain
# The default waits about 1 s after every failed login, and caldav's first request is always unauthenticated.
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {root}/collections
[web]
type = none
[logging]
level = warning
"""

_SAFE_NAME = re.compile(r"^[A-Za-z0-9@._+-]+$")


def _check_name(kind: str, value: str) -> None:
    if not _SAFE_NAME.match(value) or value in {".", ".."}:
        raise ValueError(f"{kind} {value!r}: use letters, digits and @._+- only")


class Radicale(LoopbackServer):
    """A throwaway Radicale: ``with Radicale(dir) as dav: dav.add_user("alice", "pw"); dav.url``."""

    name = "radicale"

    def __init__(self, root: Path, *, host: str = LOOPBACK) -> None:
        self.root = root
        self.host = host
        self.port = 0
        self.users: dict[str, str] = {}
        self._process: ServerProcess | None = None
        self._groups: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def user_url(self, user: str) -> str:
        return f"{self.url}{user}/"

    def start(self) -> Self:
        try:
            import radicale  # noqa: F401  (only checks that the package is installed)
        except ImportError as missing:
            raise MissingServerSoftware(f"Python package radicale is missing; {INSTALL_HINT}") from missing
        if self._process is None:
            make_server_dir(self.root)
            self.port = free_port()
            (self.root / "config").write_text(_CONFIG.format(host=self.host, port=self.port, root=self.root))
            (self.root / "users").touch()
            command = [sys.executable, "-m", "radicale", "--config", str(self.root / "config")]
            self._process = ServerProcess(self.name, command, self.root / "radicale.log")
        try:
            self._process.start()
            self._groups.add(self._process.pid or 0)
            self.start_seconds = self._process.wait_for_port(self.port)
        except BaseException:
            self._process.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(signal.SIGTERM)

    def process_groups(self) -> set[int]:
        return set(self._groups)

    def add_user(self, name: str, password: str) -> None:
        _check_name("user", name)
        if not password or any(char in password for char in ":\n\r"):
            raise ValueError("password must be non-empty, without ':' or line breaks")
        if name in self.users:
            raise ValueError(f"CalDAV user {name!r} already exists")
        with open(self.root / "users", "a") as users_file:
            users_file.write(f"{name}:{password}\n")
        self.users[name] = password

    def calendar_dir(self, user: str, calendar: str) -> Path:
        _check_name("user", user)
        _check_name("calendar", calendar)
        return self.root / "collections" / "collection-root" / user / calendar

    def write_ics_files(self, user: str, calendar: str, items: Mapping[str, bytes], *,
                        displayname: str | None = None) -> Path:
        """Put ``{file name: iCalendar bytes}`` straight into a calendar's storage, creating the calendar if needed.

        The calendar is then at ``user_url(user) + calendar + "/"``. Returns its directory.
        """
        directory = self.calendar_dir(user, calendar)
        directory.mkdir(parents=True, exist_ok=True)
        props = directory / ".Radicale.props"
        if not props.exists():
            props.write_text(json.dumps({
                "tag": "VCALENDAR",
                "D:displayname": displayname or calendar,
                "C:supported-calendar-component-set": "VEVENT",
            }))
        for file_name, content in items.items():
            if "/" in file_name or file_name.startswith("."):
                raise ValueError(f"item file name {file_name!r} must not contain '/' or start with '.'")
            (directory / file_name).write_bytes(content)
        return directory
