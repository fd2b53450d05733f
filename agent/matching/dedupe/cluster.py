"""Grouping scored pairs into duplicate clusters, guarded against chaining, and one-to-one linkage.

Plain connected components over pairs above a threshold chain: A~B and B~C put A and C together even when A
and C plainly differ (two namesakes sharing a switchboard number with a third record). ``cluster`` therefore
grows clusters like single linkage, strongest pair first, but two groups join only if

1. no pair across them is in ``exclude`` (remembered "not a duplicate"); and
2. their *average linkage* is at least ``min_average``: the mean score over every cross pair, a pair that was
   not in ``pairs`` (never scored, or below the finder's ``low``) counting as 0. Two singletons joined by a
   pair above ``threshold`` always pass; a chain A-B-C whose A-C pair is unknown has average
   (0 + s(B,C)) / 2 when {A,B} meets C, so a weak link cannot drag a group along,
   while a tight group where most cross pairs scored high joins freely.

Ties are broken by ids, so the clusters do not depend on the order of the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent.errors import UserError
from agent.matching.dedupe.records import ScoredPair


def cluster(
    pairs: Iterable[ScoredPair],
    threshold: float,
    *,
    min_average: float | None = None,
    exclude: Iterable[tuple[int, int]] = (),
) -> list[frozenset[int]]:
    """Clusters of two or more ids linked by pairs scoring at least ``threshold``, sorted by smallest id.

    ``min_average`` (default ``threshold / 2``) is the least average score across two groups for them to join;
    ``exclude`` pairs are never put in the same cluster.
    """
    if not 0.0 <= threshold <= 1.0:
        raise UserError(f"cluster threshold must be between 0 and 1 (got {threshold})")
    floor = threshold / 2 if min_average is None else min_average
    score: dict[tuple[int, int], float] = {}
    for pair in pairs:
        key = (pair.a_id, pair.b_id) if pair.a_id < pair.b_id else (pair.b_id, pair.a_id)
        score[key] = max(pair.score, score.get(key, 0.0))
    forbidden = {(a, b) if a < b else (b, a) for a, b in exclude}
    edges = sorted((-s, a, b) for (a, b), s in score.items() if s >= threshold and (a, b) not in forbidden)
    group_of: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    for _, a, b in edges:
        ga, gb = group_of.setdefault(a, a), group_of.setdefault(b, b)
        members.setdefault(ga, [a])
        members.setdefault(gb, [b])
        if ga == gb or not _may_join(members[ga], members[gb], score, forbidden, floor):
            continue
        keep, drop = (ga, gb) if len(members[ga]) >= len(members[gb]) else (gb, ga)
        for node in members[drop]:
            group_of[node] = keep
        members[keep].extend(members.pop(drop))
    clusters = [frozenset(m) for m in members.values() if len(m) > 1]
    return sorted(clusters, key=min)


def _may_join(
    left: Sequence[int],
    right: Sequence[int],
    score: dict[tuple[int, int], float],
    forbidden: set[tuple[int, int]],
    floor: float,
) -> bool:
    total = 0.0
    for a in left:
        for b in right:
            key = (a, b) if a < b else (b, a)
            if key in forbidden:
                return False
            total += score.get(key, 0.0)
    return total / (len(left) * len(right)) >= floor


def one_to_one(pairs: Iterable[ScoredPair], threshold: float = 0.0) -> list[ScoredPair]:
    """Keep each id in at most one pair (greedy, best score first; ties by ids) among pairs >= ``threshold``.

    For linkage between two lists that each hold one record per entity (an import file without duplicates
    against a de-duplicated CRM): a record then has at most one true partner, so a weaker second candidate of
    an already linked record is a false link. Ids are taken per side: ``a_id`` values and ``b_id`` values may
    overlap between the two lists.
    """
    kept: list[ScoredPair] = []
    used_a: set[int] = set()
    used_b: set[int] = set()
    for pair in sorted(pairs, key=lambda p: (-p.score, p.a_id, p.b_id)):
        if pair.score < threshold or pair.a_id in used_a or pair.b_id in used_b:
            continue
        used_a.add(pair.a_id)
        used_b.add(pair.b_id)
        kept.append(pair)
    return kept
