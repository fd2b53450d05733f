"""Runs a private Xandikos CalDAV server on 127.0.0.1, a second implementation to test the CalDAV code against.

Xandikos serves one principal (``/user/``) without authentication, which is acceptable on loopback only. It starts
with a default calendar at ``/user/calendars/calendar/``; clients may create more under ``/user/calendars/``.
"""

from __future__ import annotations

import signal
import sys
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

PRINCIPAL_PATH = "/user/"
DEFAULT_CALENDAR_PATH = "/user/calendars/calendar/"


class Xandikos(LoopbackServer):
    """A throwaway Xandikos: ``with Xandikos(dir) as dav: caldav.DAVClient(dav.url).principal()``."""

    name = "xandikos"

    def __init__(self, root: Path, *, host: str = LOOPBACK) -> None:
        self.root = root
        self.host = host
        self.port = 0
        self._process: ServerProcess | None = None
        self._groups: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def principal_url(self) -> str:
        return f"http://{self.host}:{self.port}{PRINCIPAL_PATH}"

    @property
    def default_calendar_url(self) -> str:
        return f"http://{self.host}:{self.port}{DEFAULT_CALENDAR_PATH}"

    def start(self) -> Self:
        try:
            import xandikos  # noqa: F401  (only checks that the package is installed)
        except ImportError as missing:
            raise MissingServerSoftware(f"Python package xandikos is missing; {INSTALL_HINT}") from missing
        if self._process is None:
            make_server_dir(self.root)
            self.port = free_port()
            command = [
                sys.executable, "-m", "xandikos.web", "--defaults", "--no-detect-systemd",
                "-d", str(self.root / "dav"), "--state-dir", str(self.root / "state"),
                "-l", self.host, "-p", str(self.port), "--current-user-principal", PRINCIPAL_PATH,
            ]
            self._process = ServerProcess(self.name, command, self.root / "xandikos.log")
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
