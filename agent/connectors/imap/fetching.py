"""The hot path: a raw ``UID FETCH`` through imaplib and a small parser of its answer (no ENVELOPE, no per-item
objects), because imapclient's generic response parser is the slow part of a backfill."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from agent.connectors.imap.cursor import compact

HEADER_FIELDS = (
    "FROM TO CC BCC REPLY-TO SENDER SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES LIST-ID LIST-UNSUBSCRIBE "
    "PRECEDENCE AUTO-SUBMITTED X-AUTOREPLY X-AUTORESPOND X-AUTO-RESPONSE-SUPPRESS X-FAILED-RECIPIENTS RETURN-PATH "
    "CONTENT-TYPE MIME-VERSION X-CRM-AGENT-RULE"
)
#: what is fetched per visibility: headers only, or headers plus the first 64 KiB of the body (snippet, attachments)
HEADERS_ONLY = f"(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})])"
HEADERS_AND_TEXT = "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.65536>)"

_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_START = re.compile(rb"^\d+ \(")


@dataclass(slots=True)
class Fetched:
    uid: int
    data: bytes
    internal_date: datetime | None
    size: int | None


def _internal_date(raw: bytes | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw.decode("ascii"), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def parse_fetch_response(data: Sequence) -> Iterator[Fetched]:
    """imaplib's ``uid('FETCH')`` data → one Fetched per message: literals are concatenated in order."""
    meta = b""
    chunks: list[bytes] = []

    def flush() -> Fetched | None:
        uid = _UID.search(meta)
        if uid is None:
            return None
        size = _SIZE.search(meta)
        date = _DATE.search(meta)
        body = b"".join(chunks)
        return Fetched(int(uid.group(1)), body, _internal_date(date.group(1) if date else None), int(size.group(1)) if size else None)

    for part in data:
        if isinstance(part, tuple):
            prefix, literal = part[0], part[1]
            if _START.match(prefix):
                if meta:
                    done = flush()
                    if done is not None:
                        yield done
                meta, chunks = prefix, []
            else:
                meta += prefix
            chunks.append(literal)
        elif isinstance(part, bytes):
            if _START.match(part):  # a message without literals (e.g. vanished body): metadata only
                if meta:
                    done = flush()
                    if done is not None:
                        yield done
                meta, chunks = part, []
            else:
                meta += part
    if meta:
        done = flush()
        if done is not None:
            yield done


def uid_batches(uids: Sequence[int], size: int = 2000) -> Iterator[str]:
    """Compact UID sets of at most ``size`` UIDs: short commands (Dovecot refuses lines over 64 KiB)."""
    for start in range(0, len(uids), size):
        yield compact(uids[start : start + size])
