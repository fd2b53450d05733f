"""Small SQL helpers that hide the dialect: portable upserts and chunked IN lists."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

T = TypeVar("T")


def dialect_insert(session: Session, model: Any):
    """``INSERT`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for SQLite and PostgreSQL alike."""
    name = session.get_bind().dialect.name
    table = model.__table__ if hasattr(model, "__table__") else model
    if name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most ``size``: keeps IN lists under every backend's parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
