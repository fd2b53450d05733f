"""Parse the bytes of an email (a whole message or only its header block) into a ParsedEmail, fast, never raising.

Hot path: an IMAP backfill fetches header blocks by the thousand, so headers are read here without the stdlib
``email`` package: split the header block, unfold, keep only the headers crm-agent reads, decode RFC 2047 words
only when ``=?`` is present, parse addresses and dates with small caches and a regular expression, and fall
back to ``email.utils`` only for the odd cases (field readers: ``agent.pipeline.email_headers``). The stdlib
parser is used for bodies (MIME structure), through ``agent.pipeline.snippet``.

Repairs (short, stable codes in ``ParsedEmail.repairs``): ``header:8bit``, ``header:8bit:cp1252``,
``header:invalid-line``, ``header:duplicated:<name>`` (first one wins), ``header:too-long:<name>``,
``encoded-word:invalid``, ``encoded-word:unterminated``, ``charset:*`` (see snippet), ``address:invalid:<header>``,
``date:missing->internaldate``, ``date:missing->epoch``, ``date:unparseable`` (then INTERNALDATE, else the epoch),
``date:unknown-timezone``, ``date:no-timezone``, ``message-id:missing``, ``message-id:invalid``,
``content-type:invalid``, ``mime:<defect>``, ``mime:too-deep``, ``html:unparseable``, ``body:truncated``,
``parse:internal-error:<exception>`` (a bug: the message was kept with what could be read).

Visibility: ``metadata`` keeps participants, date, ids and noise headers (no subject, snippet, body nor attachment
names); ``subject`` adds the subject and attachment names; ``snippet`` adds ~300 characters of new text; ``full``
adds the whole text body (capped at 500,000 characters). ``calendar_parts`` are kept at every level: the calendar
layer applies the visibility to what it makes of them.

``content_hash`` is the sha256 of the normalized From/To/Cc addresses, the Date header (UTC, empty when missing:
never the folder's INTERNALDATE, which differs between folders), the subject and the whitespace-collapsed text.
It ignores Received headers, folders and visibility, so a re-fetch of the same bytes gives the same hash; a
header-only fetch has no text, hence another hash than a full fetch of the same message. When none of these
fields could be read (binary garbage, an empty file), it is the sha256 of the raw bytes.
"""

from __future__ import annotations

import re
from datetime import datetime
from hashlib import sha256

from agent.pipeline.email_headers import (
    EPOCH,
    clear_caches,
    decode_8bit_header,
    decode_words,
    fallback_date,
    normalize_message_id,
    read_date,
    read_mailboxes,
    read_message_id,
    read_references,
)
from agent.pipeline.snippet import extract_body, make_snippet
from agent.records import ParsedEmail, Visibility

__all__ = ["EPOCH", "NOISE_HEADERS", "clear_caches", "normalize_message_id", "parse_email"]

MAX_SUBJECT = 1000
MAX_HEADER_VALUE = 4000  # noise headers kept for the filter
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
            data = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
        if type(visibility) is not Visibility:  # the enum constructor is slow: only for plain strings
            visibility = Visibility(visibility)
        return _parse(data, received_at, visibility)
    except Exception as exc:  # why: one hostile message must never stop a sync; the code names the bug
        return _unreadable(data, received_at, f"parse:internal-error:{type(exc).__name__}")


# ---------------------------------------------------------------------------------------------- assembly

def _parse(data: bytes, received_at: datetime | None, visibility: Visibility) -> ParsedEmail:
    repairs: list[str] = []
    head, body = _split_message(data)
    headers = _read_headers(head, repairs)
    get = headers.get

    from_ = read_mailboxes(get("from"), "from", repairs)
    to = read_mailboxes(get("to"), "to", repairs)
    cc = read_mailboxes(get("cc"), "cc", repairs)
    subject = _subject(get("subject"), repairs)
    header_date = read_date(get("date"), repairs)
    date = header_date or fallback_date(received_at, "date:missing" if get("date") is None else "", repairs)

    message_id = read_message_id(get("message-id"), repairs)
    in_reply_to = normalize_message_id(get("in-reply-to"))
    references = read_references(get("references"), repairs)
    noise = _noise_headers(headers, repairs)
    content_type = _content_type(get("content-type"), repairs)

    text, attachments, calendar_parts = "", (), ()
    if body:
        parts = extract_body(data)
        repairs.extend(parts.repairs)
        text = parts.text
        attachments = tuple(decode_words(name, repairs) for name in parts.attachment_names if name)
        calendar_parts = tuple(parts.calendar_parts)

    bcc = read_mailboxes(get("bcc"), "bcc", repairs)
    reply_to = read_mailboxes(get("reply-to"), "reply-to", repairs)
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
        date = fallback_date(received_at, "", repairs)
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


_HEADER_LINE_END = re.compile(r"\n(?![ \t])")


def _read_headers(head: bytes, repairs: list[str]) -> dict[str, str]:
    """The wanted headers: lower-case names, values stripped (folds kept); the first of a duplicated header wins."""
    text = head.decode("ascii") if head.isascii() else decode_8bit_header(head, repairs)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "\n" not in text:
        text = text.replace("\r", "\n")  # old Mac line ends (or a single line)
    # One C-level split at line ends not followed by a fold; folds stay inside values (whitespace to address and
    # id readers), and the subject and noise headers unfold theirs. Any line end works: CRLF, LF or a mix.
    lines = _HEADER_LINE_END.split(text)
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
        headers[key] = value.strip()
    return headers


# ---------------------------------------------------------------------------------------------- fields

def _subject(value: str | None, repairs: list[str]) -> str:
    if not value:
        return ""
    if "\n" in value:
        value = _unfold(value)
    if "=?" in value:
        value = decode_words(value, repairs)
    if not value.isprintable():  # control characters only: format characters (ZWJ in emoji, soft hyphen) stay
        value = "".join(" " if ch < " " or "\x7f" <= ch <= "\x9f" or ch in "\u2028\u2029" else ch for ch in value)
    value = value.strip()
    if len(value) > MAX_SUBJECT:
        repairs.append("header:too-long:subject")
        value = value[:MAX_SUBJECT]
    return value


def _unfold(value: str) -> str:
    """RFC 5322 unfolding: the line breaks go, the blanks after them stay."""
    return value.replace("\r\n", "").replace("\n", "")


def _noise_headers(headers: dict[str, str], repairs: list[str]) -> tuple[tuple[str, str], ...]:
    noise = []
    for name, value in headers.items():
        if name in _NOISE_SET:
            if "\n" in value:
                value = " ".join(value.split())  # machine-read values: any run of blanks is one space
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


