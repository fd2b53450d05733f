"""Candidate generation: which record pairs are worth scoring, without comparing every record to every other.

Two classic techniques, combined by union:

- *Standard blocking*: every record emits a few keys (its phone, a phonetic name code, postcode + name prefix...)
  and records sharing a key become candidates. A key shared by more than ``max_block`` records (a switchboard
  number, a big city's postcode) says little and would cost a quadratic number of comparisons, so such a block
  is skipped; other keys still bring its true duplicates together.
- *Sorted neighbourhood*: records are sorted by a key and each is paired with the next ``window - 1`` ones,
  which catches typos after the first letters that exact keys miss.

Pairs are returned as ``(i, j)`` record positions with ``i < j``, sorted, so the result is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence


def _accept(i: int, j: int, sources: Sequence[int] | None) -> bool:
    return sources is None or sources[i] != sources[j]


def blocked_pairs(
    keys: Sequence[Iterable[str]],
    *,
    max_block: int = 50,
    sources: Sequence[int] | None = None,
) -> set[tuple[int, int]]:
    """Pairs of positions sharing at least one key; ``sources`` (when given) keeps only cross-source pairs."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for position, record_keys in enumerate(keys):
        for key in set(record_keys):
            if key:
                blocks[key].append(position)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > max_block:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if _accept(i, j, sources):
                    pairs.add((i, j) if i < j else (j, i))
    return pairs


def neighbourhood_pairs(
    sort_keys: Sequence[str],
    *,
    window: int = 4,
    sources: Sequence[int] | None = None,
) -> set[tuple[int, int]]:
    """Pairs of positions at most ``window - 1`` apart once sorted by ``sort_keys`` (empty keys are left out)."""
    order = sorted((key, position) for position, key in enumerate(sort_keys) if key)
    pairs: set[tuple[int, int]] = set()
    for x, (_, i) in enumerate(order):
        for _, j in order[x + 1 : x + window]:
            if _accept(i, j, sources):
                pairs.add((i, j) if i < j else (j, i))
    return pairs
