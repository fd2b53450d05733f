"""Runs one server process in its own process group, waits for it to be ready, and stops it without leftovers.

Every server of the harness is a child started here with ``start_new_session=True``, so its pid is also the id of a
process group that holds the server's own children (Dovecot's imap/auth processes, PostgreSQL's backends). Stopping
signals the leader, waits, and then kills whatever is left in that group, so a failed stop never leaves strays.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

INSTALL_HINT = "run scripts/install-test-deps (it installs the test servers and the Python test packages)"
DEFAULT_READY_TIMEOUT = 30.0
DEFAULT_STOP_TIMEOUT = 10.0
LOOPBACK = "127.0.0.1"

# Every process group this Python process ever started, so a test (or the session end) can prove none survived.
STARTED_PROCESS_GROUPS: set[int] = set()


class HarnessError(RuntimeError):
    """A test server could not be started, became unreachable, or did not stop."""


class MissingServerSoftware(HarnessError):
    """A binary or package a test server needs is not installed on this machine."""


@dataclass(frozen=True)
class ServiceAccount:
    """The Unix account a server runs as: a dedicated one when we are root, ourselves otherwise."""

    name: str
    uid: int
    gid: int

    @property
    def is_switched(self) -> bool:
        return self.uid != os.getuid()

    def run_prefix(self) -> list[str]:
        """The command prefix that drops privileges to this account (empty when we already are it)."""
        if not self.is_switched:
            return []
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--"]

    def give(self, *paths: Path) -> None:
        """Hand files and directories (recursively) to this account; a no-op when no switch happens."""
        if not self.is_switched:
            return
        for top in paths:
            os.chown(top, self.uid, self.gid)
            if top.is_dir():
                for root, dirs, files in os.walk(top):
                    for name in dirs + files:
                        os.chown(os.path.join(root, name), self.uid, self.gid, follow_symlinks=False)


def service_account(name_when_root: str) -> ServiceAccount:
    """Root must not run Dovecot or PostgreSQL itself, so as root use the distribution's account for them."""
    if os.getuid() == 0:
        try:
            entry = pwd.getpwnam(name_when_root)
        except KeyError as missing:
            raise MissingServerSoftware(f"user {name_when_root!r} does not exist; {INSTALL_HINT}") from missing
    else:
        entry = pwd.getpwuid(os.getuid())
    return ServiceAccount(entry.pw_name, entry.pw_uid, entry.pw_gid)


def require_executable(path_or_name: str, package: str) -> str:
    """The absolute path of a binary, or MissingServerSoftware naming the Debian package that brings it."""
    # Non-root users often lack /usr/sbin (where Debian puts dovecot) in their PATH.
    found = shutil.which(path_or_name) or shutil.which(path_or_name, path="/usr/sbin:/sbin")
    if found is None:
        raise MissingServerSoftware(f"{path_or_name} not found (Debian package {package}); {INSTALL_HINT}")
    return found


def _base_parent() -> str:
    """Where server directories go: CRM_TEST_BASE_PARENT, else RAM-backed /dev/shm when roomy, else /tmp."""
    chosen = os.environ.get("CRM_TEST_BASE_PARENT")
    if chosen:
        return chosen
    try:
        stats = os.statvfs("/dev/shm")
        # Creating files there is several times faster than on disk (20k Maildir files: ~1 s against 4-7 s).
        if os.access("/dev/shm", os.W_OK | os.X_OK) and stats.f_bavail * stats.f_frsize >= 2 << 30:
            return "/dev/shm"
    except OSError:
        pass
    return "/tmp"


def make_base_dir(prefix: str = "crmt-") -> Path:
    """A fresh, short directory (unix socket paths inside it must stay under 108 bytes)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=_base_parent()))
    # mkdtemp gives 0700, which the dovecot and postgres accounts could not traverse.
    base.chmod(0o755)
    return base


def make_server_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (servers that cannot bind port 0 need one chosen)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(empty log {path})"


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) pids in a process group; zombies are already dead and only wait for their reaper."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the fields start after the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def leftover_processes(pgids: Sequence[int] | set[int] | None = None) -> dict[int, list[int]]:
    """Process groups (default: all this process started) that still have live members, with those members."""
    groups = STARTED_PROCESS_GROUPS if pgids is None else pgids
    found = {pgid: _group_members(pgid) for pgid in sorted(groups)}
    return {pgid: pids for pgid, pids in found.items() if pids}


def _wait_group_empty(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class ServerProcess:
    """One child process in its own group, with its output in a log file kept in the server's directory."""

    def __init__(self, name: str, command: Sequence[str], log_path: Path, *, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self.cwd = cwd
        self.env = env
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._popen is None else self._popen.pid

    def start(self) -> None:
        if self.running():
            raise HarnessError(f"{self.name} is already running (pid {self.pid})")
        with open(self.log_path, "ab") as log:
            self._popen = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                           cwd=self.cwd, env=self.env, start_new_session=True)
        STARTED_PROCESS_GROUPS.add(self._popen.pid)

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def failure(self, what: str) -> HarnessError:
        """An error that carries the end of the server's log, which is where the reason usually is."""
        return HarnessError(f"{self.name} {what}; last lines of {self.log_path}:\n{log_tail(self.log_path)}")

    def ensure_alive(self) -> None:
        if self._popen is not None and self._popen.poll() is not None:
            raise self.failure(f"exited with code {self._popen.returncode} during start-up")

    def wait_until(self, ready: Callable[[], bool], timeout: float = DEFAULT_READY_TIMEOUT) -> float:
        """Poll ``ready`` until it holds; fail early if the process dies. Returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            self.ensure_alive()
            if ready():
                return time.monotonic() - started
            if time.monotonic() > deadline:
                raise self.failure(f"not ready after {timeout:.0f} s")
            if self._popen is not None:
                try:
                    # Doubles as the poll interval and as an immediate wake-up if the server dies.
                    self._popen.wait(timeout=0.01)
                except subprocess.TimeoutExpired:
                    pass

    def wait_for_port(self, port: int, timeout: float = DEFAULT_READY_TIMEOUT) -> float:
        return self.wait_until(lambda: port_accepts(port), timeout)

    def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = DEFAULT_STOP_TIMEOUT, *,
             whole_group: bool = False) -> None:
        """Ask the leader (or the whole group) to stop, then make sure the group is gone (SIGKILL for stragglers)."""
        if self._popen is None:
            return
        popen, pgid = self._popen, self._popen.pid
        if popen.poll() is None:
            try:
                if whole_group:
                    os.killpg(pgid, stop_signal)
                else:
                    popen.send_signal(stop_signal)
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill_group(pgid)
                popen.wait(timeout=timeout)
        self._kill_group(pgid)
        if not _wait_group_empty(pgid, timeout):
            raise HarnessError(f"{self.name}: processes {_group_members(pgid)} survived SIGKILL")

    def kill(self) -> None:
        """Crash the server on purpose: SIGKILL to its whole group, no chance to clean up."""
        if self._popen is None:
            return
        self._kill_group(self._popen.pid)
        self._popen.wait(timeout=DEFAULT_STOP_TIMEOUT)
        _wait_group_empty(self._popen.pid, DEFAULT_STOP_TIMEOUT)

    @staticmethod
    def _kill_group(pgid: int) -> None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def port_accepts(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class LoopbackServer:
    """Start/stop plus ``with`` support shared by every harness server; subclasses fill in ``start`` and ``stop``."""

    name = "server"
    start_seconds: float | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def process_groups(self) -> set[int]:
        """The process groups this server has started (empty for in-process servers)."""
        return set()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def timed(action: Callable[[], object]) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started
