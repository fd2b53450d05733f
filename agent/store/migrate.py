"""Alembic, driven from code: the migration scripts ship inside the package, no alembic.ini needed.

Features add their tables in their own revisions; the schema is "current" when every head is applied.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision(s), joined with '+' when several feature branches are open."""
    return "+".join(sorted(_script().get_heads()))


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) if heads else None


def upgrade(engine: Engine, target: str = "heads") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), target)
