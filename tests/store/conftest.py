"""The store suite runs on SQLite and on a real PostgreSQL (a throwaway cluster started by the harness)."""

from __future__ import annotations

import pytest

from agent.store.db import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = Store(url)
    s.prepare()
    yield s
    s.dispose()
