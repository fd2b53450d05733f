"""Read email header values on the parser's hot path: RFC 2047 words, addresses, dates, message ids, References.

Each reader takes the unfolded value ``parse_email`` found (or None) and the ``repairs`` list, and never raises.
Address lists are parsed without the stdlib when they hold no comment, group or escape (a comma split that keeps
quoted names and brackets together), and cached, because the same From and To values recur all day; comments,
groups (``Achats: a@x.fr, b@y.fr;``) and escapes go to ``email.utils.getaddresses``. Dates take one regular
expression for RFC 5322 and its obsolete forms, then ``email.utils`` and ISO 8601. Caps: 50 References ids (the
first, which is the thread root, and the last 49), 1000 mailboxes per header, 998-character message ids.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_tz
from functools import lru_cache

from agent.matching.addresses import normalize_address
from agent.pipeline.snippet import decode_bytes
from agent.records import Mailbox

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_REFERENCES = 50
MAX_MAILBOXES = 1000  # per header: more is a mass mailing or an attack
MAX_NAME = 4000
MAX_MESSAGE_ID = 998  # the RFC 5322 line limit; longer ids are garbage


# ---------------------------------------------------------------------------------------------- RFC 2047

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_UNTERMINATED_WORD = re.compile(r"=\?[^?\s]+\?[QqBb]\?")


def decode_words(value: str, repairs: list[str]) -> str:
    """Decode RFC 2047 words anywhere in ``value``; adjacent words of one charset are joined before decoding,
    so a character split across two words survives; an undecodable word stays as written."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending_charset, pending = "", b""
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        position = match.end()
        charset, encoding, encoded = match.groups()
        charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: "utf-8*fr"
        raw = _decode_word_bytes(encoding, encoded)
        adjacent = bool(pending_charset) and (not between or between.isspace())  # blanks between words vanish
        if raw is not None and adjacent and pending_charset.lower() == charset.lower():
            pending += raw
            continue
        if pending_charset:
            out.append(decode_bytes(pending, pending_charset, repairs))
            pending_charset, pending = "", b""
        if raw is None:
            repairs.append("encoded-word:invalid")
            out.extend((between, match.group(0)))  # an undecodable word is plain text, blanks around it stay
            continue
        if not adjacent:
            out.append(between)
        pending_charset, pending = charset, raw
    if pending_charset:
        out.append(decode_bytes(pending, pending_charset, repairs))
    rest = value[position:]
    if _UNTERMINATED_WORD.search(rest):
        repairs.append("encoded-word:unterminated")  # kept as written: guessing where it ends could eat text
    out.append(rest)
    return "".join(out)


def _decode_word_bytes(encoding: str, encoded: str) -> bytes | None:
    try:
        if encoding in "Qq":
            return binascii.a2b_qp(encoded.encode("utf-8", "surrogateescape"), header=True)
        compact = "".join(encoded.split()).rstrip("=")
        if len(compact) % 4 == 1:  # one stray character can never be base64: drop it
            compact = compact[:-1]
        # Missing padding is common and harmless; characters outside the alphabet mean it is not base64.
        return binascii.a2b_base64(compact + "=" * (-len(compact) % 4), strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def decode_8bit_header(head: bytes, repairs: list[str]) -> str:
    """Raw 8-bit header bytes: UTF-8 when they are valid UTF-8 (RFC 6532), else cp1252 line by line."""
    try:
        text = head.decode("utf-8")
        repairs.append("header:8bit")
        return text
    except UnicodeDecodeError:
        pass
    repairs.append("header:8bit:cp1252")
    return "\n".join(decode_bytes(line, "windows-1252", []) for line in head.split(b"\n"))


# ---------------------------------------------------------------------------------------------- message ids

def normalize_message_id(raw: str | None) -> str | None:
    """``' <AbC@host> (comment)'`` -> ``'AbC@host'``: the first bracketed id (or the bare value), no whitespace.

    Case is kept (ids are case-sensitive); None for empty, ``<>`` or longer than 998 characters.
    """
    if not raw:
        return None
    if raw[0] == "<" and raw[-1] == ">" and raw.count("<") == 1 and raw.count(">") == 1 and " " not in raw:
        core = raw[1:-1]
        return core if core and len(core) <= MAX_MESSAGE_ID and "\t" not in core else normalize_message_id(core)
    start = raw.find("<")
    if start >= 0:
        end = raw.find(">", start + 1)
        raw = raw[start + 1 : end] if end >= 0 else raw[start + 1 :]
    elif " " in raw.strip() or "\t" in raw:
        raw = raw.split()[0]  # a bare id followed by a comment
    core = "".join(raw.split()).strip("<>")
    return core if core and len(core) <= MAX_MESSAGE_ID else None


def read_message_id(value: str | None, repairs: list[str]) -> str | None:
    if value is None:
        repairs.append("message-id:missing")
        return None
    normalized = normalize_message_id(value)
    if normalized is None:
        repairs.append("message-id:invalid")
    return normalized


_LOOSE_BRACKETED_ID = re.compile(r"<([^<>]*)>")


def read_references(value: str | None, repairs: list[str]) -> tuple[str, ...]:
    """Ids in order; a list longer than 50 keeps the first (the thread root) and the last 49."""
    if not value:
        return ()
    ids = value.replace("<", " ").replace(">", " ").split()
    if len(ids) != value.count("<") or len(ids) != value.count(">"):  # a bad fold, a comment, no brackets
        ids = [core for raw in _LOOSE_BRACKETED_ID.findall(value) if (core := "".join(raw.split()))] or value.split()
        ids = [i for i in ids if len(i) <= MAX_MESSAGE_ID]
    if len(ids) > MAX_REFERENCES:
        repairs.append("header:too-long:references")
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return tuple(ids)


# ---------------------------------------------------------------------------------------------- addresses

_NEEDS_STDLIB = re.compile(r"[(:;\\]")  # comments, groups, escapes: left to the stdlib address parser
_LIST_ITEM = re.compile(r'(?:"[^"]*"|<[^<>]*>|[^,"<])+')  # one mailbox: commas inside quotes or brackets stay
# Python's own email generator (3.11, policy SMTP/default) writes the comma after an encoded name as "=?utf-8?q?=2C?=".
_ENCODED_COMMA = re.compile(r"=\?[^?\s]+\?[qQ]\?=2[cC]\?=")
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;()]+@[^\s<>\"',;()]+")
# Plain dicts, emptied when full: cheaper per hit than lru_cache, and the same From/To values recur all day.
_CACHE_LIMIT = 50_000
_LIST_CACHE: dict[str, tuple[tuple[Mailbox, ...], bool, bool]] = {}
_MAILBOX_CACHE: dict[str, Mailbox | None] = {}


def clear_caches() -> None:
    """Forget cached address lists and mailboxes (benchmarks measure a cold start with it)."""
    _LIST_CACHE.clear()
    _MAILBOX_CACHE.clear()


def read_mailboxes(value: str | None, header: str, repairs: list[str]) -> tuple[Mailbox, ...]:
    if not value:
        return ()
    parsed = _LIST_CACHE.get(value)
    if parsed is None:
        if len(_LIST_CACHE) >= _CACHE_LIMIT:
            _LIST_CACHE.clear()
        parsed = _LIST_CACHE[value] = _parse_address_list(value)
    mailboxes, invalid, too_many = parsed
    if invalid:
        repairs.append(f"address:invalid:{header}")
    if too_many:
        repairs.append(f"header:too-long:{header}")
    return mailboxes


def _parse_address_list(value: str) -> tuple[tuple[Mailbox, ...], bool, bool]:
    """(mailboxes, some were invalid, list was cut); the first of a repeated address wins."""
    if "=2" in value and _ENCODED_COMMA.search(value):
        value = _ENCODED_COMMA.sub(",", value)
    parsed = _read_address_list(value, fast=True)
    if "=?" in value and (parsed[1] or any("<" in mailbox.name and "@" in mailbox.name for mailbox in parsed[0])):
        # Python's generator also folds a long name together with the address and comma after it into encoded
        # words: reading the decoded text recovers those addresses. Names come from the first reading when it
        # found the address and its name swallowed no other (a decoded name may hold a comma that splits it).
        retry = _read_address_list(decode_words(value, []), fast=False)
        if len(retry[0]) > len(parsed[0]):
            first = {mailbox.address: mailbox for mailbox in parsed[0] if "<" not in mailbox.name}
            merged = tuple(first.get(mailbox.address, mailbox) for mailbox in retry[0])
            return merged, retry[1] and parsed[1], parsed[2] or retry[2]
    return parsed


def _read_address_list(value: str, fast: bool) -> tuple[tuple[Mailbox, ...], bool, bool]:
    simple = fast and _NEEDS_STDLIB.search(value) is None and value.count("<") == value.count(">")
    if simple and '"' not in value:
        found = [_mailbox(piece) for piece in value.split(",")[: MAX_MAILBOXES * 2] if piece and not piece.isspace()]
    elif simple and value.count('"') % 2 == 0:
        found = [_mailbox(piece) for piece in _LIST_ITEM.findall(value)[: MAX_MAILBOXES * 2] if not piece.isspace()]
    else:
        try:
            pairs = [pair for pair in getaddresses([value]) if pair != ("", "")]
        except Exception:  # why: the stdlib address parser has choked on hostile input before
            pairs = [("", bare) for bare in _BARE_ADDRESS.findall(value)]
        found = [_mailbox_of(name, address) for name, address in pairs[: MAX_MAILBOXES * 2]]
    mailboxes = [mailbox for mailbox in found if mailbox is not None]
    invalid = len(mailboxes) != len(found)
    if len({mailbox.address for mailbox in mailboxes}) != len(mailboxes):
        unique: dict[str, Mailbox] = {}
        for mailbox in mailboxes:
            unique.setdefault(mailbox.address, mailbox)
        mailboxes = list(unique.values())
    too_many = len(mailboxes) > MAX_MAILBOXES or len(found) >= MAX_MAILBOXES * 2
    return tuple(mailboxes[:MAX_MAILBOXES]), invalid, too_many


def _mailbox(piece: str) -> Mailbox | None:
    """``'"Dupont, Jean" <Jean@Acme.fr>'`` -> Mailbox('jean@acme.fr', 'Dupont, Jean'); None if no address."""
    try:
        return _MAILBOX_CACHE[piece]
    except KeyError:
        pass
    start = piece.rfind("<")
    if start < 0:
        mailbox = None if "=?" in piece else _mailbox_of("", piece)  # a bare address never holds encoded words
    else:
        end = piece.find(">", start)
        name = piece[:start].strip()
        if len(name) > 1 and name[0] == name[-1] == '"':  # the fast path never sees escapes inside quotes
            name = name[1:-1]
        mailbox = _mailbox_of(name, piece[start + 1 : end if end >= 0 else None])
    if len(_MAILBOX_CACHE) >= _CACHE_LIMIT:
        _MAILBOX_CACHE.clear()
    _MAILBOX_CACHE[piece] = mailbox
    return mailbox


def _mailbox_of(name: str, raw_address: str) -> Mailbox | None:
    """A mailbox from an unquoted display name and an address as written."""
    address = normalize_address(raw_address)
    if address is None and (bare := _BARE_ADDRESS.search(raw_address)):
        address = normalize_address(bare.group(0))
    return None if address is None else Mailbox(address, _display_name(name))


def _display_name(name: str) -> str:
    if "=?" in name:
        name = decode_words(name, [])  # a broken word in a name is not worth a repair code: the address counts
    name = " ".join(name.split())
    if len(name) > 1 and name[0] == name[-1] in "'\"":  # Outlook writes "'Dupont, Jean'" and some tools '"X"'
        name = name[1:-1].strip()
    return name[:MAX_NAME]


# ---------------------------------------------------------------------------------------------- dates

_DATE = re.compile(
    r"\s*(?:[A-Za-z]+\.?,?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*\.?[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{2})"
    r"(?::(\d{2}))?(?:\.\d+)?\s*(?:([+-]\d\d:?\d\d)|\(?([A-Za-z]{1,5})\)?)?\s*(?:\(|$)"
)
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
# RFC 5322 obsolete zones, plus the European names French mailers still write.
_ZONES = {"ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420,
          "mdt": -360, "pst": -480, "pdt": -420, "cet": 60, "cest": 120, "met": 60, "mest": 120, "bst": 60}


def read_date(value: str | None, repairs: list[str]) -> datetime | None:
    """The Date header in UTC, or None (missing or unparseable; the latter is recorded)."""
    if value is None:
        return None
    match = _DATE.match(value)
    if match:
        day, month, year, hour, minute, second, offset, zone = match.groups()
        month_number = _MONTHS.get(month.lower())
        if month_number:
            year_number = int(year)
            if len(year) == 2:
                year_number += 2000 if year_number < 50 else 1900
            if offset:
                minutes = int(offset[1:3]) * 60 + int(offset[-2:])
                minutes = -minutes if offset[0] == "-" else minutes
            elif zone and zone.lower() in _ZONES:
                minutes = _ZONES[zone.lower()]
            else:
                minutes = 0
                repairs.append("date:unknown-timezone" if zone else "date:no-timezone")
            try:
                local = datetime(year_number, month_number, int(day), int(hour), int(minute),
                                 min(int(second or 0), 59), tzinfo=UTC)
                return local - _offset(minutes) if minutes else local
            except (ValueError, OverflowError):
                pass
    return _date_slow(value, repairs)


@lru_cache(maxsize=256)
def _offset(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


def _date_slow(value: str, repairs: list[str]) -> datetime | None:
    """Formats the fast pattern does not know: ``email.utils``, then ISO 8601 (some gateways write it)."""
    try:
        parts = parsedate_tz(value)
        if parts:
            if parts[9] is None:
                repairs.append("date:no-timezone")
            stamp = datetime(*parts[:5], min(parts[5], 59), tzinfo=UTC)
            return stamp - timedelta(seconds=parts[9] or 0)
    except (ValueError, OverflowError, TypeError, IndexError):
        pass
    try:
        stamp = datetime.fromisoformat(value.strip())
        if stamp.tzinfo is None:
            repairs.append("date:no-timezone")
        return stamp.replace(tzinfo=stamp.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    repairs.append("date:unparseable")
    return None


def fallback_date(received_at: datetime | None, missing_code: str, repairs: list[str]) -> datetime:
    """INTERNALDATE (or file time) when the Date header is unusable, else the epoch."""
    if received_at is not None:
        if missing_code:
            repairs.append(f"{missing_code}->internaldate")
        return received_at.replace(tzinfo=UTC) if received_at.tzinfo is None else received_at.astimezone(UTC)
    if missing_code:
        repairs.append(f"{missing_code}->epoch")
    return EPOCH
