"""Every golden .eml parses to exactly its reviewed .json (see tests/parsing/golden.py to regenerate)."""

from __future__ import annotations

import json

import pytest

from tests.parsing.golden import (
    GOLDEN_DIR,
    expected_path,
    golden_inputs,
    parse_golden,
    project,
    regenerate,
    update_requested,
)

GOLDENS = golden_inputs()


def test_there_are_enough_goldens() -> None:
    assert len(GOLDENS) >= 25, GOLDEN_DIR


if update_requested():
    regenerate()


@pytest.mark.parametrize("path", GOLDENS, ids=[p.stem for p in GOLDENS])
def test_golden(path) -> None:
    expected_file = expected_path(path)
    assert expected_file.exists(), f"no {expected_file.name}: run with CRM_UPDATE_GOLDEN=1 and review it"
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert project(parse_golden(path)) == expected


@pytest.mark.parametrize("path", GOLDENS, ids=[p.stem for p in GOLDENS])
def test_golden_never_hits_the_internal_error_path(path) -> None:
    assert not [r for r in parse_golden(path).repairs if r.startswith("parse:internal-error")]
