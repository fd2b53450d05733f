"""The store: one engine per process, SQLite (WAL, foreign keys) or PostgreSQL, and the unit of work.

Every batch commits through ``Store.unit_of_work()``: all of it or nothing. Schema versions are Alembic
revisions (agent/store/migrations); a new database is created at the newest revision, an older one must be
upgraded explicitly with ``crm-agent db upgrade`` (SQLite files are backed up first).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from agent.errors import TemporaryError, UserError

# Importing the model modules registers every table on Base.metadata.
from agent.store import models, models_crm, models_privacy, models_matching, models_meetings, models_rules  # noqa: F401


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, safe against corruption
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _begin_immediate(conn) -> None:
    # SQLite: take the write lock at BEGIN, so two writers queue instead of failing on upgrade (SQLITE_BUSY).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn) -> None:
    # Readers never block the writer under WAL; a deferred BEGIN takes no lock until it reads.
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str, *, writer: bool = True) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"database: {url!r} is not a database URL (e.g. sqlite:///path or postgresql+psycopg://...)") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate if writer else _begin_deferred)
        return engine
    if parsed.get_backend_name() == "postgresql":
        try:
            return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=10)
        except ModuleNotFoundError:
            raise UserError("database: PostgreSQL needs the driver: pip install 'crm-agent[postgres]'") from None
    raise UserError(f"database: unsupported backend {parsed.get_backend_name()!r} (sqlite or postgresql)")


class Store:
    """The database of one crm-agent instance."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._reader = make_engine(url, writer=False) if self.dialect == "sqlite" else self.engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False, autoflush=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        database = make_url(self.url).database
        return Path(database).expanduser() if self.is_sqlite and database and database != ":memory:" else None

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or rolls back on any exception."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise TemporaryError(f"database: {exc.orig}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; nothing it does is committed."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    # ------------------------------------------------------------------ schema

    def schema_state(self) -> tuple[str | None, str]:
        """(current revision or None for an empty database, newest revision this code knows). Read through the
        reading engine: the writing one takes SQLite's write lock at BEGIN, and a read-only store has no writer."""
        from agent.store.migrate import current_revision, head_revision

        with self._reader.connect() as conn:
            return current_revision(conn), head_revision()

    def prepare(self) -> None:
        """Create a new database at the newest schema; refuse an outdated or newer one with the fix to run."""
        from agent.store.migrate import upgrade

        try:
            current, head = self.schema_state()
        except OperationalError as exc:
            raise UserError(f"database: cannot open {self.url_for_display}: {exc.orig}") from None
        if current == head:
            return
        if current is None:
            with self.engine.connect() as conn:
                existing = set(inspect(conn).get_table_names()) - {"alembic_version"}
            if existing:
                raise UserError(f"database: {self.url_for_display} holds tables that are not crm-agent's ({sorted(existing)[:3]}...)")
            upgrade(self.engine)
            return
        from agent.store.migrate import known_revisions

        if not set(current.split("+")) <= known_revisions():
            raise UserError(f"database: schema {current} is newer than this crm-agent (knows up to {head}); upgrade crm-agent")
        raise UserError(f"database: schema {current} is older than {head}; run `crm-agent db upgrade`")

    def upgrade(self) -> tuple[str | None, str, Path | None]:
        """Bring the schema to the newest revision; back up an SQLite file first. Returns (before, after, backup)."""
        from agent.store.migrate import upgrade

        before, head = self.schema_state()
        backup = None
        if before not in (None, head) and self.sqlite_path and self.sqlite_path.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            backup = self.sqlite_path.with_name(f"{self.sqlite_path.name}.{before}.{stamp}.bak")
            with self.engine.connect() as conn:
                conn.exec_driver_sql(f"VACUUM INTO '{backup}'")
        upgrade(self.engine)
        return before, head, backup

    @property
    def url_for_display(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader.dispose()
