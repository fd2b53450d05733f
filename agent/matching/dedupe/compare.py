"""Field comparisons: each maps two normalized values to a level index (0 = strongest agreement) or ``NULL``.

The levels are the vocabulary of the Fellegi-Sunter model (see ``model.py``); the model learns how much each
level weighs, these functions only decide which level a pair falls into. Inputs are already folded (see
``normalize.py``): ASCII, lower case, words separated by single spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, Indel, JaroWinkler

from agent.matching.dedupe.model import NULL

# Person names: exact / one typo or phonetic slip / initial or part of a compound name / loosely similar / differ.
NAME_EXACT, NAME_CLOSE, NAME_PARTIAL, NAME_SIMILAR, NAME_DIFFER = range(5)
# How good an orientation (direct or swapped first/last) is, to pick the better one.
_NAME_QUALITY = {NAME_EXACT: 4.0, NAME_CLOSE: 3.0, NAME_PARTIAL: 2.0, NAME_SIMILAR: 1.0, NAME_DIFFER: 0.0, NULL: 0.5}


@lru_cache(maxsize=1 << 17)
def name_level(x: str, y: str) -> int:
    """Compare two folded name parts ("jean pierre", "dupont"). Cached: names repeat a lot across pairs."""
    if not x or not y:
        return NULL
    xs, ys = x.replace(" ", ""), y.replace(" ", "")
    if xs == ys:
        return NAME_EXACT
    if (len(xs) <= 2 or len(ys) <= 2 or " " in x or " " in y) and (_is_initial_of(x, y) or _is_initial_of(y, x)):
        return NAME_PARTIAL
    if min(len(xs), len(ys)) >= 3 and (
        JaroWinkler.normalized_similarity(xs, ys) >= 0.92 or DamerauLevenshtein.distance(xs, ys, score_cutoff=1) <= 1
    ):
        return NAME_CLOSE
    x_words, y_words = x.split(), y.split()
    if len(x_words) != len(y_words) and (set(x_words) <= set(y_words) or set(y_words) <= set(x_words)):
        return NAME_PARTIAL  # "jean" within "jean pierre": a compound name written in part
    if JaroWinkler.normalized_similarity(xs, ys) >= 0.8:
        return NAME_SIMILAR
    return NAME_DIFFER


def _is_initial_of(short: str, full: str) -> bool:
    """"j p" (or "jp") is the initials of "jean pierre"; "j" of "jean"."""
    words = short.split()
    if len(words) == 1 and len(words[0]) <= 2:
        letters = list(words[0])
    elif words and all(len(w) == 1 for w in words):
        letters = words
    else:
        return False
    full_words = full.split()
    if letters == [w[0] for w in full_words]:
        return True
    return len(letters) == 1 and bool(full_words) and full_words[0][0] == letters[0] and len(full_words[0]) > 1


@lru_cache(maxsize=1 << 16)
def compare_person_names(a_first: str, a_last: str, b_first: str, b_last: str) -> tuple[int, int, bool]:
    """(first-name level, last-name level, swapped): compares in the orientation (direct or swapped) that fits.

    A swap is chosen only when it fits strictly better, so ordinary pairs are compared field by field.
    """
    direct = (name_level(a_first, b_first), name_level(a_last, b_last))
    if not (a_first or a_last) or not (b_first or b_last) or direct == (NAME_EXACT, NAME_EXACT):
        return direct[0], direct[1], False
    swapped = (name_level(a_first, b_last), name_level(a_last, b_first))
    if _NAME_QUALITY[swapped[0]] + _NAME_QUALITY[swapped[1]] > _NAME_QUALITY[direct[0]] + _NAME_QUALITY[direct[1]]:
        return swapped[0], swapped[1], True
    return direct[0], direct[1], False


# Streets, compared line by line after aligning each line of the shorter address with its best partner:
# every line equal / all aligned lines close, same line count (typos) / all aligned lines close but one address
# has an extra line (a complement missing on one side) / one aligned pair close, another not (same street,
# other complement, or the reverse) / loosely similar / differ.
STREET_EXACT, STREET_CLOSE, STREET_SUBSET, STREET_PARTIAL, STREET_SIMILAR, STREET_DIFFER = range(6)
_LINE_CLOSE = 0.85


@lru_cache(maxsize=1 << 16)
def street_level(a_lines: Sequence[str], b_lines: Sequence[str]) -> int:
    """Compare street lines without their house number; lines may be missing or in another order."""
    if not a_lines or not b_lines:
        return NULL
    a_squashed = [line.replace(" ", "") for line in a_lines]
    b_squashed = [line.replace(" ", "") for line in b_lines]
    joined_a, joined_b = "".join(a_squashed), "".join(b_squashed)
    if joined_a == joined_b:
        return STREET_EXACT
    shorter, longer = (a_squashed, b_squashed) if len(a_squashed) <= len(b_squashed) else (b_squashed, a_squashed)
    aligned = [max(Indel.normalized_similarity(x, y) for y in longer) for x in shorter]
    whole = Indel.normalized_similarity(joined_a, joined_b)
    if min(aligned) >= _LINE_CLOSE:
        return STREET_CLOSE if len(shorter) == len(longer) else STREET_SUBSET
    if whole >= _LINE_CLOSE:
        return STREET_CLOSE  # words moved across lines
    if max(aligned) >= _LINE_CLOSE:
        return STREET_PARTIAL
    if max(max(aligned), whole) >= 0.7:
        return STREET_SIMILAR
    return STREET_DIFFER


# Short codes (postcodes, house numbers): equal / one typo (substitution or transposition) / differ.
CODE_EXACT, CODE_CLOSE, CODE_DIFFER = range(3)


@lru_cache(maxsize=1 << 16)
def code_level(x: str, y: str) -> int:
    if not x or not y:
        return NULL
    if x == y:
        return CODE_EXACT
    if len(x) == len(y) and DamerauLevenshtein.distance(x, y, score_cutoff=1) <= 1:
        return CODE_CLOSE
    return CODE_DIFFER


# Places (city names, company names): equal / close (typo, split or merged words) / differ.
PLACE_EXACT, PLACE_CLOSE, PLACE_DIFFER = range(3)


@lru_cache(maxsize=1 << 16)
def place_level(x: str, y: str) -> int:
    if not x or not y:
        return NULL
    xs, ys = x.replace(" ", ""), y.replace(" ", "")
    if xs == ys:
        return PLACE_EXACT
    if JaroWinkler.normalized_similarity(xs, ys) >= 0.9 or Indel.normalized_similarity(xs, ys) >= 0.85:
        return PLACE_CLOSE
    return PLACE_DIFFER


# Sets of identifiers (emails, phones, domains): one shared / none shared.
SHARED, NOT_SHARED = range(2)


def set_level(x: frozenset[str], y: frozenset[str]) -> int:
    if not x or not y:
        return NULL
    return SHARED if not x.isdisjoint(y) else NOT_SHARED
