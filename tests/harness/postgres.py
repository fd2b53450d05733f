"""Runs a throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, no durability) and hands out fresh databases.

initdb and the server refuse to run as root, so as root both run as ``postgres``. The unix socket lives in a
short directory because its path must stay under 108 bytes. ``create_database`` gives each test its own database
(a SQLAlchemy URL); ``drop_database`` removes it even if a test left connections open.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Self

from .process import (
    INSTALL_HINT,
    LOOPBACK,
    HarnessError,
    LoopbackServer,
    MissingServerSoftware,
    ServerProcess,
    free_port,
    make_server_dir,
    service_account,
    timed,
)

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _check_database_name(name: str) -> None:
    if not _DATABASE_NAME.match(name):
        raise ValueError(f"database name {name!r}: use lower-case letters, digits and '_' (max 63)")


class Postgres(LoopbackServer):
    """``with Postgres(dir) as pg: url = pg.create_database("t1")`` gives ``postgresql+psycopg://...``."""

    name = "postgres"

    def __init__(self, root: Path, *, host: str = LOOPBACK) -> None:
        self.root = root
        self.host = host
        self.port = 0
        self.account = service_account("postgres")
        self.initdb_seconds: float | None = None
        self._process: ServerProcess | None = None
        self._groups: set[int] = set()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "s"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """A libpq connection string, for psycopg without SQLAlchemy."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"

    def start(self) -> Self:
        for binary in ("initdb", "postgres"):
            if not (PG_BIN / binary).exists():
                raise MissingServerSoftware(f"{PG_BIN / binary} not found (Debian package postgresql-15); "
                                            f"{INSTALL_HINT}")
        try:
            import psycopg  # noqa: F401  (only checks that the package is installed)
        except ImportError as missing:
            raise MissingServerSoftware(f"Python package psycopg is missing; {INSTALL_HINT}") from missing
        if self._process is None:
            self._prepare()
        assert self._process is not None
        try:
            self._process.start()
            self._groups.add(self._process.pid or 0)
            self.start_seconds = (self.initdb_seconds or 0) + self._process.wait_until(self._accepts_queries)
        except BaseException:
            self._process.stop(signal.SIGINT)
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: abort sessions, then exit cleanly.
            self._process.stop(signal.SIGINT)

    def process_groups(self) -> set[int]:
        return set(self._groups)

    def _prepare(self) -> None:
        make_server_dir(self.root)
        make_server_dir(self.socket_dir)
        if len(str(self.socket_dir)) + len("/.s.PGSQL.65535") >= 108:
            raise HarnessError(f"socket directory {self.socket_dir} is too long for a unix socket path")
        self.account.give(self.root)
        initdb = [*self.account.run_prefix(), str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                  "--auth=trust", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C.UTF-8"]
        log_path = self.root / "initdb.log"

        def run_initdb() -> None:
            with open(log_path, "wb") as log:
                result = subprocess.run(initdb, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.root, timeout=120)
            if result.returncode != 0:
                raise HarnessError(f"initdb failed ({result.returncode}); see {log_path}:\n{log_path.read_text()}")

        self.initdb_seconds = timed(run_initdb)
        self.port = free_port()
        command = [*self.account.run_prefix(), str(PG_BIN / "postgres"), "-D", str(self.data_dir),
                   "-p", str(self.port), "-k", str(self.socket_dir), "-c", f"listen_addresses={self.host}",
                   "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._process = ServerProcess(self.name, command, self.root / "postgres.log", cwd=self.root)

    def _accepts_queries(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.conninfo(), connect_timeout=2) as connection:
                connection.execute("select 1")
            return True
        except psycopg.OperationalError:
            # Refused while the port is not open, "starting up" while recovery runs: both mean "not yet".
            return False

    def _admin(self, statement: object) -> None:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL (driver psycopg 3)."""
        from psycopg import sql

        _check_database_name(name)
        # template0, not template1: nothing a test creates in template1 can leak into later tests' databases.
        self._admin(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection a test left open."""
        from psycopg import sql

        _check_database_name(name)
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
