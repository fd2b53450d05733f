"""Fixtures of the rule-engine suite: a World per test (SQLite by default, PostgreSQL where a test asks)."""

from __future__ import annotations

import pytest

from tests.rules_engine.support import World, example_rules


@pytest.fixture
def make_world(tmp_path):
    worlds: list[World] = []

    def make(rules=None, **kwargs) -> World:
        world = World(tmp_path, example_rules("relance-devis") if rules is None else rules, **kwargs)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.close()
