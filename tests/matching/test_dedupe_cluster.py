"""Clustering scored pairs: components, the anti-chaining guard, exclusions, determinism; one-to-one linkage."""

from __future__ import annotations

import random

import pytest

from agent.errors import UserError
from agent.matching.dedupe import ScoredPair, cluster, one_to_one


def pairs(*triples: tuple[int, int, float]) -> list[ScoredPair]:
    return [ScoredPair(min(a, b), max(a, b), s) for a, b, s in triples]


def test_pairs_above_threshold_form_clusters_sorted_by_smallest_id() -> None:
    scored = pairs((5, 6, 0.99), (1, 2, 0.97), (2, 3, 0.96), (1, 3, 0.95), (8, 9, 0.3))
    assert cluster(scored, 0.5) == [frozenset({1, 2, 3}), frozenset({5, 6})]


def test_a_weak_bridge_does_not_merge_two_tight_groups() -> None:
    group_a = [(1, 2, 0.99), (1, 3, 0.99), (2, 3, 0.99)]
    group_b = [(4, 5, 0.99), (4, 6, 0.99), (5, 6, 0.99)]
    scored = pairs(*group_a, *group_b, (3, 4, 0.6))
    assert cluster(scored, 0.5) == [frozenset({1, 2, 3}), frozenset({4, 5, 6})]
    # plain connected components (no guard) would have chained them into one
    assert cluster(scored, 0.5, min_average=0.0) == [frozenset({1, 2, 3, 4, 5, 6})]


def test_a_long_chain_is_cut_but_a_well_linked_group_is_not() -> None:
    chain = pairs((1, 2, 0.99), (2, 3, 0.99), (3, 4, 0.99), (4, 5, 0.99))
    assert all(len(c) < 5 for c in cluster(chain, 0.9))
    complete = pairs(*[(a, b, 0.99) for a in range(1, 6) for b in range(a + 1, 6)])
    assert cluster(complete, 0.9) == [frozenset({1, 2, 3, 4, 5})]


def test_excluded_pairs_are_never_in_one_cluster() -> None:
    scored = pairs((1, 2, 0.99), (2, 3, 0.98), (1, 3, 0.97))
    clusters = cluster(scored, 0.5, exclude=[(3, 1)])
    assert not any({1, 3} <= c for c in clusters)
    assert frozenset({1, 2}) in clusters


def test_clusters_do_not_depend_on_input_order() -> None:
    rng = random.Random(4)
    scored = pairs(*[(a, b, round(rng.random(), 2)) for a in range(30) for b in range(a + 1, 30) if rng.random() < 0.2])
    expected = cluster(scored, 0.6)
    for _ in range(5):
        rng.shuffle(scored)
        assert cluster(scored, 0.6) == expected


def test_threshold_out_of_range_is_a_user_error() -> None:
    with pytest.raises(UserError, match="threshold"):
        cluster([], 1.5)


def test_one_to_one_keeps_the_best_partner_on_each_side() -> None:
    linked = one_to_one([ScoredPair(1, 10, 0.9), ScoredPair(1, 11, 0.95), ScoredPair(2, 11, 0.8),
                         ScoredPair(2, 12, 0.7), ScoredPair(3, 12, 0.4)], threshold=0.5)
    assert [(p.a_id, p.b_id) for p in linked] == [(1, 11), (2, 12)]
