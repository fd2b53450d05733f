"""Person names from one display string: ``'Sophie LEMAIRE'`` -> first ``Sophie``, last ``LEMAIRE`` (pure).

French usage writes the family name in capitals, either side ("LEMAIRE Sophie", "Sophie LEMAIRE"); a comma puts it
first ("Dupont, Jean"). Without either hint the first word is the given name and the rest the family name. The
de-duplication engine compares names in both orders, so a wrong guess costs little; what matters is that a
whole name is never left in one field when the other is empty.
"""

from __future__ import annotations

import re

_QUOTES = "\"'`«»“”‘’"
_WORD = re.compile(r"\S+")


def _is_capitals(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def clean_display_name(name: str | None) -> str:
    """Blanks collapsed, surrounding quotes removed; an address used as a name is no name."""
    if not name:
        return ""
    text = " ".join(name.split()).strip(_QUOTES + " ")
    return "" if "@" in text else text


def split_person_name(name: str | None) -> tuple[str, str]:
    """(first name, last name) of a display name; ``('', '')`` when there is none."""
    text = clean_display_name(name)
    if not text:
        return "", ""
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    words = _WORD.findall(text)
    if len(words) == 1:
        return words[0], ""
    capitals = [w for w in words if _is_capitals(w)]
    if capitals and len(capitals) < len(words):
        return " ".join(w for w in words if not _is_capitals(w)), " ".join(capitals)
    return words[0], " ".join(words[1:])


def person_name_parts(first: str, last: str, display: str) -> tuple[str, str]:
    """The (first, last) to compare for a stored contact: its own fields when both are set, else a split.

    An import that put a whole name in one column ("Sophie LEMAIRE" as last name) is split again here.
    """
    first, last = (first or "").strip(), (last or "").strip()
    if first and last:
        return first, last
    return split_person_name(first or last or display)
