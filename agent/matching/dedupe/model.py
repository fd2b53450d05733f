"""Fellegi-Sunter scoring: turns comparison levels into a match probability, with m/u estimated by EM.

Each comparison (first name, phone, postcode, ...) puts a candidate pair into one of a few *levels* ("exact",
"close", "differ"), or into no level when a side is missing (a missing value is no evidence either way). For each
level the model holds ``m`` = P(level | same entity) and ``u`` = P(level | different entities); the score of a
pair is the posterior P(same | levels) = λ·Πm / (λ·Πm + (1-λ)·Πu), assuming levels independent given the class.
Levels are listed strongest first and their weights log(m/u) are kept non-increasing in that order.

The parameters are estimated on the candidate pairs themselves by expectation-maximisation (no labels needed),
as a maximum a posteriori estimate: the hand-set priors of each level act as pseudo-counts worth
``prior_weight`` pairs. On a few hundred contacts the priors dominate and scores stay sensible; on thousands the
data take over. EM runs on the distinct level patterns with their counts, in a fixed order, so it is cheap and
its result is deterministic.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

NULL = -1  # the level of a comparison where either side is missing

Pattern = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Level:
    """One outcome of a comparison with its prior m and u probabilities."""

    label: str
    m: float
    u: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """A named comparison: ``levels[i]`` is the outcome ``i`` that ``compare`` returns (or ``NULL``)."""

    name: str
    levels: tuple[Level, ...]
    # Identifiers (SIREN) keep their prior m/u: EM would learn them from the very few pairs that have both
    # values, and a registry number's meaning does not depend on this CRM.
    fixed: bool = False


@dataclass(slots=True)
class Model:
    """Estimated parameters; ``weights[c][level]`` is log(m/u) of that level (log Bayes factor)."""

    comparisons: tuple[Comparison, ...]
    prior_match: float
    m: list[list[float]] = field(default_factory=list)
    u: list[list[float]] = field(default_factory=list)
    iterations: int = 0

    @property
    def weights(self) -> list[list[float]]:
        """log(m/u) per level, made non-increasing from the strongest level to the weakest.

        Levels are ordinal (exact, close, ..., differ), so weaker agreement must never count more than stronger
        agreement. Without this, a level that the candidates rarely show (initials in a small CRM) gets a tiny
        u from EM and would outweigh an exact match.
        """
        out = []
        for ms, us in zip(self.m, self.u):
            row: list[float] = []
            for mi, ui in zip(ms, us):
                weight = math.log(mi / ui)
                row.append(min(weight, row[-1]) if row else weight)
            out.append(row)
        return out

    def log_odds(self, pattern: Pattern) -> float:
        """log(λ/(1-λ)) plus the weight of every non-missing level."""
        return self.log_odds_cache()(pattern)

    def probability(self, pattern: Pattern) -> float:
        return sigmoid(self.log_odds(pattern))

    def log_odds_cache(self) -> Callable[[Pattern], float]:
        """A memoizing ``log_odds`` for fixed parameters: candidate sets repeat a few thousand patterns."""
        cache: dict[Pattern, float] = {}
        weights = self.weights
        prior = math.log(self.prior_match / (1.0 - self.prior_match))

        def log_odds(pattern: Pattern) -> float:
            value = cache.get(pattern)
            if value is None:
                value = prior + sum(weights[c][level] for c, level in enumerate(pattern) if level != NULL)
                cache[pattern] = value
            return value

        return log_odds


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def estimate(
    comparisons: Sequence[Comparison],
    patterns: Sequence[Pattern],
    *,
    prior_match: float = 0.2,
    prior_weight: float = 20.0,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
) -> Model:
    """Fit λ, m and u to the candidate ``patterns`` by MAP-EM starting from (and regularised by) the priors.

    ``prior_match`` is the prior share of true duplicates among candidates; ``prior_weight`` how many pairs
    the priors are worth. With no patterns the model is the priors themselves.
    """
    comparisons = tuple(comparisons)
    counts = sorted(Counter(patterns).items())
    prior_m = [[lv.m for lv in c.levels] for c in comparisons]
    prior_u = [[lv.u for lv in c.levels] for c in comparisons]
    model = Model(comparisons, prior_match, [list(r) for r in prior_m], [list(r) for r in prior_u])
    if not counts:
        return model
    total = sum(n for _, n in counts)
    for iteration in range(1, max_iterations + 1):
        m_acc = [[prior_weight * p for p in row] for row in prior_m]
        u_acc = [[prior_weight * p for p in row] for row in prior_u]
        match_mass = prior_weight * prior_match
        log_odds = model.log_odds_cache()
        for pattern, n in counts:
            w = sigmoid(log_odds(pattern))
            match_mass += n * w
            for c, level in enumerate(pattern):
                if level != NULL:
                    m_acc[c][level] += n * w
                    u_acc[c][level] += n * (1.0 - w)
        new_m = [list(p) if c.fixed else _normalise(row) for c, p, row in zip(comparisons, prior_m, m_acc)]
        new_u = [list(p) if c.fixed else _normalise(row) for c, p, row in zip(comparisons, prior_u, u_acc)]
        new_lambda = min(max(match_mass / (total + prior_weight), 1e-6), 1 - 1e-6)
        change = abs(new_lambda - model.prior_match) + max(
            abs(a - b)
            for new, old in ((new_m, model.m), (new_u, model.u))
            for r1, r2 in zip(new, old)
            for a, b in zip(r1, r2)
        )
        model.m, model.u, model.prior_match, model.iterations = new_m, new_u, new_lambda, iteration
        if change < tolerance:
            break
    return model


def _normalise(row: list[float]) -> list[float]:
    total = sum(row)
    return [max(v / total, 1e-9) for v in row]
