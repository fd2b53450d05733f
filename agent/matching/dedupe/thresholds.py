"""Turning scores into decisions: at or above ``high`` an auto-merge candidate, from ``low`` a review item."""

from __future__ import annotations

from collections.abc import Iterable

from agent.matching.dedupe.records import ScoredPair


def split_by_threshold(pairs: Iterable[ScoredPair], high: float) -> tuple[list[ScoredPair], list[ScoredPair]]:
    """(auto-merge candidates, review queue): pairs scoring at least ``high``, and the others, order kept.

    The finders already leave out pairs below ``low``, so everything not auto-merged is for review.
    """
    auto: list[ScoredPair] = []
    review: list[ScoredPair] = []
    for pair in pairs:
        (auto if pair.score >= high else review).append(pair)
    return auto, review
