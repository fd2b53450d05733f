"""The de-duplication pipeline shared by contacts and companies: block, compare, fit, score, explain.

A ``Schema`` says how one kind of record is prepared, blocked, compared and explained; ``run`` does the rest:
candidate pairs from blocking, one level pattern per pair, EM estimation of the Fellegi-Sunter model on those
patterns (``model.py``), the posterior of each pair as its score, and reasons for the pairs that are returned.
Records are processed in id order so the same records always give the same pairs, scores and reasons.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agent.errors import UserError
from agent.matching.dedupe.blocking import blocked_pairs, neighbourhood_pairs
from agent.matching.dedupe.model import NULL, Comparison, Model, Pattern, estimate, sigmoid
from agent.matching.dedupe.records import ScoredPair

P = TypeVar("P")  # a prepared (normalized) record


@dataclass(frozen=True, slots=True)
class Schema(Generic[P]):
    """What the engine needs to know about one kind of record."""

    comparisons: tuple[Comparison, ...]
    block_keys: Callable[[P], Iterable[str]]
    sort_keys: tuple[Callable[[P], str], ...]
    compare: Callable[[P, P], Pattern]
    explain: Callable[[P, P, Pattern, list[list[float]]], tuple[str, ...]]
    # (comparison index, value getter): exact agreement on a rare value weighs more than on a common one
    frequency_adjusted: tuple[tuple[int, Callable[[P], str]], ...] = ()
    prior_match: float = 0.2
    max_block: int = 50
    window: int = 4


@dataclass(frozen=True, slots=True)
class Scored:
    """Internal result of ``run``: positions, probability and pattern, before ids and reasons are attached."""

    i: int
    j: int
    score: float
    pattern: Pattern


def check_thresholds(high: float, low: float) -> None:
    if not (0.0 <= low <= high <= 1.0):
        raise UserError(f"de-duplication thresholds must satisfy 0 <= low <= high <= 1 (got low={low}, high={high})")


def normalise_exclusions(exclude: Iterable[tuple[int, int]]) -> frozenset[tuple[int, int]]:
    """Remembered "not a duplicate" pairs, in both orders, so a pair is excluded however it was stored."""
    out: set[tuple[int, int]] = set()
    for pair in exclude:
        a, b = pair
        out.add((a, b))
        out.add((b, a))
    return frozenset(out)


def check_unique_ids(records: Sequence[Any], kind: str, where: str = "") -> None:
    seen: set[int] = set()
    for record in records:
        if record.id in seen:
            raise UserError(f"{kind} id {record.id} appears twice in the records to de-duplicate{where}")
        seen.add(record.id)


def candidates(
    schema: Schema[P], prepared: Sequence[P], sources: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    pairs = blocked_pairs([schema.block_keys(p) for p in prepared], max_block=schema.max_block, sources=sources)
    for sort_key in schema.sort_keys:
        pairs |= neighbourhood_pairs([sort_key(p) for p in prepared], window=schema.window, sources=sources)
    return sorted(pairs)


def run(
    schema: Schema[P],
    prepared: Sequence[P],
    *,
    sources: Sequence[int] | None = None,
) -> tuple[list[Scored], Model]:
    """Score every candidate pair; returns the scored pairs (all of them, in candidate order) and the model."""
    pairs = candidates(schema, prepared, sources)
    compare = schema.compare
    patterns = [compare(prepared[i], prepared[j]) for i, j in pairs]
    model = estimate(schema.comparisons, patterns, prior_match=schema.prior_match)
    log_odds = model.log_odds_cache()
    weights = model.weights
    # An exact agreement on a common value still counts at least as much as the next weaker level.
    adjusters = [(c, getter, term_frequency_adjustment([getter(p) for p in prepared]), weights[c][1] - weights[c][0])
                 for c, getter in schema.frequency_adjusted]
    scored = []
    for (i, j), pattern in zip(pairs, patterns):
        total = log_odds(pattern)
        for c, getter, adjust, floor in adjusters:
            if pattern[c] == 0:
                total += max(adjust(getter(prepared[i])), floor)
        scored.append(Scored(i, j, sigmoid(total), pattern))
    return scored, model


def term_frequency_adjustment(values: Sequence[str]) -> Callable[[str], float]:
    """``value -> log(Σ f² / f(value))``: the extra weight of an exact agreement on ``value``.

    Two different people agree on a value with probability f(value)² and on some value with Σ f², so among
    exact agreements of non-duplicates ``value`` has share f²/Σf², against f among duplicates; the Bayes factor
    of "agree on this value" is therefore the average one times Σf²/f(value) (Winkler's frequency-based
    adjustment, as splink applies it). Rare surnames count more than "Martin".
    """
    counts = Counter(v for v in values if v)
    total = sum(counts.values())
    if not total:
        return lambda value: 0.0
    expected = sum(n * n for n in counts.values()) / (total * total)
    cache: dict[str, float] = {}

    def adjust(value: str) -> float:
        if value not in cache:
            cache[value] = math.log(expected * total / counts[value]) if counts.get(value) else 0.0
        return cache[value]

    return adjust


def to_scored_pair(
    schema: Schema[P], model: Model, a: P, b: P, a_id: int, b_id: int, scored: Scored
) -> ScoredPair:
    return ScoredPair(a_id, b_id, round(scored.score, 6), schema.explain(a, b, scored.pattern, model.weights))


def ordered_reasons(evidence: Iterable[tuple[float, str]]) -> tuple[str, ...]:
    """Reasons sorted by the weight of their evidence: strongest agreement first, strongest disagreement last."""
    return tuple(text for _, text in sorted(evidence, key=lambda item: -item[0]))


def weight_of(weights: list[list[float]], comparison: int, level: int) -> float:
    return 0.0 if level == NULL else weights[comparison][level]


def simple_reason(label: str, level: int, weight: float, x: str, y: str) -> tuple[float, str]:
    """The reason for a graded comparison: "same postcode 75008", "city close (paris / pari)", "... differs"."""
    if level == 0:
        return weight, f"same {label} {x}"
    if weight > 0:
        return weight, f"{label} close ({x} / {y})"
    return weight, f"{label} differs ({x} / {y})"
