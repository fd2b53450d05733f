"""The Fellegi-Sunter model and blocking under de-duplication: EM without labels, priors, ordinal weights."""

from __future__ import annotations

import random

from agent.matching.dedupe.blocking import blocked_pairs, neighbourhood_pairs
from agent.matching.dedupe.engine import term_frequency_adjustment
from agent.matching.dedupe.model import NULL, Comparison, Level, estimate

# Weak priors: they only say which class agrees more (with m = u, EM would have nothing to break the symmetry).
BINARY = (Level("agree", 0.6, 0.4), Level("disagree", 0.4, 0.6))


def simulate(n: int, share: float, m: list[float], u: list[float], seed: int = 0) -> list[tuple[int, ...]]:
    """Patterns of ``n`` pairs, a ``share`` of them matches, comparison c agreeing with prob m[c] / u[c]."""
    rng = random.Random(seed)
    patterns = []
    for _ in range(n):
        probs = m if rng.random() < share else u
        patterns.append(tuple(0 if rng.random() < p else 1 for p in probs))
    return patterns


def test_em_recovers_m_u_and_match_share_without_labels() -> None:
    m, u = [0.95, 0.9, 0.85, 0.9], [0.05, 0.1, 0.2, 0.02]
    comparisons = [Comparison(f"c{k}", BINARY) for k in range(4)]
    model = estimate(comparisons, simulate(20000, 0.3, m, u), prior_match=0.5, prior_weight=1.0)
    assert abs(model.prior_match - 0.3) < 0.02
    for k in range(4):
        assert abs(model.m[k][0] - m[k]) < 0.03
        assert abs(model.u[k][0] - u[k]) < 0.03


def test_without_data_the_model_is_its_priors() -> None:
    comparisons = [Comparison("name", (Level("exact", 0.9, 0.1), Level("differ", 0.1, 0.9)))]
    model = estimate(comparisons, [], prior_match=0.2)
    assert model.m == [[0.9, 0.1]] and model.u == [[0.1, 0.9]] and model.prior_match == 0.2
    assert model.probability((0,)) > 0.5 > model.probability((1,))
    assert model.probability((NULL,)) == 0.2  # a missing value is no evidence


def test_weights_never_favour_a_weaker_level() -> None:
    levels = (Level("exact", 0.8, 0.1), Level("partial", 0.1, 0.001), Level("differ", 0.1, 0.899))
    model = estimate([Comparison("name", levels)], [], prior_match=0.2)
    exact, partial, differ = model.weights[0]
    assert partial <= exact and differ <= partial


def test_fixed_comparisons_keep_their_priors() -> None:
    comparisons = [Comparison("siren", BINARY, fixed=True), Comparison("name", BINARY)]
    model = estimate(comparisons, simulate(2000, 0.5, [0.99, 0.99], [0.01, 0.01]))
    assert model.m[0] == [0.6, 0.4] and model.u[0] == [0.4, 0.6]
    assert model.m[1][0] > 0.9


def test_estimation_is_deterministic_and_order_free() -> None:
    comparisons = [Comparison(f"c{k}", BINARY) for k in range(3)]
    patterns = simulate(3000, 0.2, [0.9, 0.8, 0.7], [0.1, 0.2, 0.1], seed=3)
    first = estimate(comparisons, patterns)
    shuffled = list(patterns)
    random.Random(1).shuffle(shuffled)
    second = estimate(comparisons, shuffled)
    assert (first.m, first.u, first.prior_match) == (second.m, second.u, second.prior_match)


def test_rare_values_weigh_more_than_common_ones() -> None:
    adjust = term_frequency_adjustment(["martin"] * 30 + ["dupont"] * 10 + [f"rare{k}" for k in range(60)])
    assert adjust("rare1") > 0 > adjust("martin")
    assert adjust("dupont") > adjust("martin")
    assert adjust("unknown") == 0.0


def test_blocking_skips_oversized_blocks_and_can_keep_cross_source_pairs_only() -> None:
    keys = [["big", "x"], ["big"], ["big", "x"], ["big"]]
    assert blocked_pairs(keys, max_block=3) == {(0, 2)}
    assert blocked_pairs(keys, max_block=10) == {(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)}
    assert blocked_pairs(keys, max_block=10, sources=[0, 0, 1, 1]) == {(0, 2), (0, 3), (1, 2), (1, 3)}


def test_sorted_neighbourhood_pairs_records_close_in_sort_order() -> None:
    keys = ["dupont", "dupond", "martin", "", "duppont"]
    assert neighbourhood_pairs(keys, window=2) == {(0, 1), (0, 4), (2, 4)}
