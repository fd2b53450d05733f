"""Parse the bytes of an email (a whole message or only its header block) into a ParsedEmail, fast, never raising.

Hot path: an IMAP backfill fetches header blocks by the thousand, so headers are read here without the stdlib
``email`` package: split the header block, unfold, keep only the headers crm-agent reads, decode RFC 2047 words
only when ``=?`` is present, parse addresses and dates with small caches and a regular expression, and fall
back to ``email.utils`` only for the odd cases. The stdlib parser is used for bodies (MIME structure), through
``agent.pipeline.snippet``.

Repairs (short, stable codes in ``ParsedEmail.repairs``): ``header:8bit``, ``header:8bit:cp1252``,
``header:invalid-line``, ``header:duplicated:<name>`` (first one wins), ``header:too-long:<name>``,
``encoded-word:invalid``, ``charset:*`` (see snippet), ``address:invalid:<header>``, ``date:missing->internaldate``,
``date:missing->epoch``, ``date:unparseable``, ``date:unknown-timezone``, ``date:no-timezone``,
``message-id:missing``, ``message-id:invalid``, ``content-type:invalid``, ``mime:*``, ``body:truncated``,
``parse:internal-error:<exception>`` (a bug: the message was kept with what could be read).

``content_hash`` is the sha256 of the normalized From/To/Cc addresses, the Date header (UTC, empty when missing:
never the folder's INTERNALDATE, which differs between folders), the subject and the whitespace-collapsed text.
It ignores Received headers, folders and visibility, so a re-fetch of the same bytes gives the same hash; a
header-only fetch has no text, hence another hash than a full fetch of the same message. When none of these
fields could be read (binary garbage, an empty file), it is the sha256 of the raw bytes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_tz
from functools import lru_cache
from hashlib import sha256

from agent.matching.addresses import normalize_address
from agent.pipeline.snippet import decode_8bit_header, decode_words, extract_body, make_snippet
from agent.records import Mailbox, ParsedEmail, Visibility

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_SUBJECT = 1000
MAX_REFERENCES = 50
MAX_MAILBOXES = 1000  # per header: more is a mass mailing or an attack
MAX_HEADER_VALUE = 4000  # noise headers and names kept for display
MAX_MESSAGE_ID = 998  # the RFC 5322 line limit; longer ids are garbage
MAX_BODY_CHARS = 500_000

NOISE_HEADERS = (
    "list-id", "list-unsubscribe", "precedence", "auto-submitted", "x-autoreply", "x-autorespond",
    "x-auto-response-suppress", "x-failed-recipients", "return-path", "content-type", "x-crm-agent-rule",
    "content-class",  # Outlook marks meeting requests "urn:content-classes:calendarmessage"
)
_ADDRESS_HEADERS = ("from", "to", "cc", "bcc", "reply-to")
_SINGLE_HEADERS = frozenset((*_ADDRESS_HEADERS, "subject", "date", "message-id", "in-reply-to", "references"))
_NOISE_SET = frozenset(NOISE_HEADERS)
_WANTED = frozenset((*_SINGLE_HEADERS, *NOISE_HEADERS))
# Header names as mailers write them, to skip a str.lower() per line on the hot path.
_USUAL_SPELLINGS = {spelling: name for name in _WANTED for spelling in (name, name.title(), name.upper())} | {
    "Message-ID": "message-id", "Message-Id": "message-id", "In-Reply-To": "in-reply-to", "List-ID": "list-id",
    "Reply-To": "reply-to", "CC": "cc", "Content-type": "content-type",
}


def parse_email(
    data: bytes, *, received_at: datetime | None = None, visibility: Visibility = Visibility.SNIPPET
) -> ParsedEmail:
    """Parse a message or a bare header block; never raises, records what it repaired (see module doc)."""
    try:
        if type(data) is not bytes:
            data = bytes(data)
        if type(visibility) is not Visibility:  # the enum constructor is slow: only for plain strings
            visibility = Visibility(visibility)
        return _parse(data, received_at, visibility)
    except Exception as exc:  # why: one hostile message must never stop a sync; the code names the bug
        return _unreadable(data, received_at, f"parse:internal-error:{type(exc).__name__}")


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


# ---------------------------------------------------------------------------------------------- assembly


def _parse(data: bytes, received_at: datetime | None, visibility: Visibility) -> ParsedEmail:
    repairs: list[str] = []
    head, body = _split_message(data)
    headers = _read_headers(head, repairs)
    get = headers.get

    from_ = _mailboxes(get("from"), "from", repairs)
    to = _mailboxes(get("to"), "to", repairs)
    cc = _mailboxes(get("cc"), "cc", repairs)
    subject = _subject(get("subject"), repairs)
    header_date = _header_date(get("date"), repairs)
    date = header_date or _fallback_date(received_at, "date:missing" if get("date") is None else "", repairs)

    message_id = _message_id(get("message-id"), repairs)
    in_reply_to = normalize_message_id(get("in-reply-to"))
    references = _references(get("references"), repairs)
    noise = _noise_headers(headers, repairs)
    content_type = _content_type(get("content-type"), repairs)

    text, attachments, calendar_parts = "", (), ()
    if body:
        parts = extract_body(data)
        repairs.extend(parts.repairs)
        text = parts.text
        attachments = tuple(decode_words(name, repairs) for name in parts.attachment_names if name)
        calendar_parts = tuple(parts.calendar_parts)

    bcc = _mailboxes(get("bcc"), "bcc", repairs)
    reply_to = _mailboxes(get("reply-to"), "reply-to", repairs)
    content_hash = (
        _content_hash(from_, to, cc, header_date, subject, text)
        if from_ or to or cc or header_date or subject or text
        else ""
    )
    if not content_hash:  # nothing readable (garbage, empty): only the bytes tell two such items apart
        content_hash = sha256(data).hexdigest()
    snippet = make_snippet(text) if text and visibility in (Visibility.SNIPPET, Visibility.FULL) else ""
    if visibility is Visibility.FULL and len(text) > MAX_BODY_CHARS:
        repairs.append("body:truncated")
        text = text[:MAX_BODY_CHARS]
    keeps_subject = visibility is not Visibility.METADATA
    return ParsedEmail(
        message_id=message_id,
        subject=subject if keeps_subject else "",
        date=date,
        from_=from_,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        in_reply_to=in_reply_to,
        references=references,
        noise_headers=noise,
        content_type=content_type,
        snippet=snippet,
        body=text if visibility is Visibility.FULL else "",
        attachments=attachments if keeps_subject else (),
        calendar_parts=calendar_parts,
        content_hash=content_hash,
        repairs=tuple(dict.fromkeys(repairs)) if repairs else (),
        size=len(data),
    )


def _unreadable(data: object, received_at: datetime | None, repair: str) -> ParsedEmail:
    raw = data if isinstance(data, bytes | bytearray | memoryview) else repr(data).encode("utf-8", "replace")
    repairs = [repair]
    try:
        date = _fallback_date(received_at, "", repairs)
    except Exception:  # why: a received_at that is not a datetime must not break the never-raise promise
        date = EPOCH
    return ParsedEmail(
        message_id=None,
        subject="",
        date=date,
        from_=(),
        content_hash=sha256(bytes(raw)).hexdigest(),
        repairs=tuple(repairs),
        size=len(raw),
    )


def _content_hash(from_, to, cc, header_date: datetime | None, subject: str, text: str) -> str:
    fields = (
        *[",".join(sorted([m.address for m in boxes])) if len(boxes) > 1 else boxes[0].address if boxes else ""
          for boxes in (from_, to, cc)],
        header_date.isoformat() if header_date else "",
        " ".join(subject.split()),
        " ".join(text.split()),
    )
    return sha256("\x1f".join(fields).encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------------------------------- header block

def _split_message(data: bytes) -> tuple[bytes, bytes]:
    """(header block, body); the body is empty for a bare header block or a message with nothing after it."""
    if data.startswith((b"\n", b"\r\n")):
        return b"", data
    # One scan for the usual CRLF message. A bare "\n\n" before its CRLF CRLF is not looked for: body lines read
    # as headers could only add headers the block lacks (the first of a header wins), and it costs a second scan.
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        head, body = data[:end], data[end + 4 :]
    else:
        crlf, lf = data.find(b"\n\r\n"), data.find(b"\n\n")
        end = crlf if lf < 0 or 0 <= crlf < lf else lf
        if end < 0:
            return data, b""
        head, body = data[:end], data[end + 1 :]
    return head, (b"" if body.isspace() else body)


def _read_headers(head: bytes, repairs: list[str]) -> dict[str, str]:
    """The wanted headers, lower-case names, unfolded values; the first of a duplicated header wins."""
    text = head.decode("ascii") if head.isascii() else decode_8bit_header(head, repairs)
    if "\x00" in text:
        text = text.replace("\x00", "")
    # Lines are split on "\n" whatever the line ends (CRLF, LF, a mix); a "\r" left by CRLF is stripped below.
    # Unfolding with str.replace runs in C; it leaves one blank per fold, which every wanted header tolerates.
    if "\n" not in text:
        text = text.replace("\r", "\n")  # old Mac line ends (or a single line)
    if "\t" in text:
        text = text.replace("\n\t", "\n ")
    lines = text.replace("\n ", " ").split("\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            if line and not line.isspace() and not line.startswith("From "):  # "From " opens an mbox entry
                repairs.append("header:invalid-line")
            continue
        key = _USUAL_SPELLINGS.get(name) or name.lower()
        if key not in _WANTED:
            key = key.strip()  # obsolete syntax allows "Subject :"
            if key not in _WANTED:
                continue
        if key in headers:
            if key in _SINGLE_HEADERS:
                repairs.append(f"header:duplicated:{key}")
            continue
        value = value.strip()
        headers[key] = value.replace("\r", "") if "\r" in value else value  # a CRLF fold leaves "\r "
    return headers


# ---------------------------------------------------------------------------------------------- fields


def _subject(value: str | None, repairs: list[str]) -> str:
    if not value:
        return ""
    if "=?" in value:
        value = decode_words(value, repairs)
    if not value.isprintable():  # control characters only: format characters (ZWJ in emoji, soft hyphen) stay
        value = "".join(" " if ch < " " or "\x7f" <= ch <= "\x9f" or ch in "\u2028\u2029" else ch for ch in value)
    value = value.strip()
    if len(value) > MAX_SUBJECT:
        repairs.append("header:too-long:subject")
        value = value[:MAX_SUBJECT]
    return value


def _noise_headers(headers: dict[str, str], repairs: list[str]) -> tuple[tuple[str, str], ...]:
    noise = []
    for name, value in headers.items():
        if name in _NOISE_SET:
            if "=?" in value:
                value = decode_words(value, repairs)
            if len(value) > MAX_HEADER_VALUE:
                repairs.append(f"header:too-long:{name}")
                value = value[:MAX_HEADER_VALUE]
            noise.append((name, value.lower() if name == "content-type" else value))
    return tuple(noise)


def _content_type(value: str | None, repairs: list[str]) -> str:
    if not value:
        return "text/plain"
    media_type = value.split(";", 1)[0].strip().lower()
    main, slash, sub = media_type.partition("/")
    if not slash or not main or not sub or " " in media_type:
        repairs.append("content-type:invalid")
        return "text/plain"
    return media_type


def _message_id(value: str | None, repairs: list[str]) -> str | None:
    if value is None:
        repairs.append("message-id:missing")
        return None
    normalized = normalize_message_id(value)
    if normalized is None:
        repairs.append("message-id:invalid")
    return normalized


_LOOSE_BRACKETED_ID = re.compile(r"<([^<>]*)>")


def _references(value: str | None, repairs: list[str]) -> tuple[str, ...]:
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


def _mailboxes(value: str | None, header: str, repairs: list[str]) -> tuple[Mailbox, ...]:
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
        # words: decoding first recovers those, at the price of splitting decoded names that hold commas.
        retry = _read_address_list(decode_words(value, []), fast=False)
        if not retry[1] and len(retry[0]) > len(parsed[0]):
            return retry
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
    return name[:MAX_HEADER_VALUE]


# ---------------------------------------------------------------------------------------------- dates

_DATE = re.compile(
    r"\s*(?:[A-Za-z]+\.?,?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*\.?[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{2})"
    r"(?::(\d{2}))?(?:\.\d+)?\s*(?:([+-]\d\d:?\d\d)|\(?([A-Za-z]{1,5})\)?)?\s*(?:\(|$)"
)
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
# RFC 5322 obsolete zones, plus the European names French mailers still write.
_ZONES = {"ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420,
          "mdt": -360, "pst": -480, "pdt": -420, "cet": 60, "cest": 120, "met": 60, "mest": 120, "bst": 60}


def _header_date(value: str | None, repairs: list[str]) -> datetime | None:
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
    return _header_date_slow(value, repairs)


@lru_cache(maxsize=256)
def _offset(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


def _header_date_slow(value: str, repairs: list[str]) -> datetime | None:
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


def _fallback_date(received_at: datetime | None, missing_code: str, repairs: list[str]) -> datetime:
    """INTERNALDATE (or file time) when the Date header is unusable, else the epoch."""
    if received_at is not None:
        if missing_code:
            repairs.append(f"{missing_code}->internaldate")
        return received_at.replace(tzinfo=UTC) if received_at.tzinfo is None else received_at.astimezone(UTC)
    if missing_code:
        repairs.append(f"{missing_code}->epoch")
    return EPOCH
