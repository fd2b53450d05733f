"""One daemon per SQLite store: an exclusive lock file beside the database, released by the kernel on exit."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from agent.errors import UserError


class InstanceLock:
    """``flock`` on ``<db>.lock``; a second `crm-agent run` on the same store refuses to start, naming the holder."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UserError(f"another crm-agent is already running on this store (pid {holder}, lock {self.path}); "
                            "stop it first, or use `crm-agent web --read-only` to look at the data") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
