"""Alembic environment: runs on the connection agent.store.migrate hands over (or a URL for autogenerate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from agent.store import db  # noqa: F401  (registers every table)
from agent.store.base import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        with create_engine(url).connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
