"""The IMAP cursor: UIDVALIDITY, last UID, HIGHESTMODSEQ, and the compact set of UIDs known to be present."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from agent.connectors.base import CursorCodec


def compact(uids: Iterable[int]) -> str:
    """{1,2,3,7,9,10} -> "1:3,7,9:10" (an IMAP sequence set; also what the cursor stores)."""
    ordered = sorted(set(uids))
    if not ordered:
        return ""
    parts = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        parts.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def expand(text: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition(":")
        out.update(range(int(low), int(high or low) + 1))
    return out


@dataclass(frozen=True)
class ImapCursor(CursorCodec):
    """``listing`` is true while a full enumeration is paged; ``modseq`` is 0 when the server lacks CONDSTORE."""

    VERSION: ClassVar[int] = 1
    uidvalidity: int = 0
    last_uid: int = 0
    modseq: int = 0
    uidnext: int = 0
    uids: str = ""  # compact set of UIDs <= last_uid present at the last listing
    listing: bool = False
    start_modseq: int = 0  # HIGHESTMODSEQ when the current full listing began
    listing_uidnext: int = 0  # UIDNEXT at the latest EXAMINE of the current full listing
