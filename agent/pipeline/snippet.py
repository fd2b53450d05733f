"""The text of an email: charsets, the MIME body (text, attachment names, calendar parts), the new-text snippet.

``parse_email`` calls ``extract_body`` only when the message has a body (the header-only hot path never does);
``decode_bytes`` also serves header decoding. Every function degrades instead of raising and appends short stable
repair codes to the ``repairs`` list it is given:

- ``charset:unknown:<name>`` / ``charset:mislabeled:<name>`` / ``charset:invalid-bytes:<name>`` /
  ``charset:missing``: how text bytes were decoded when the declared charset did not fit;
- ``mime:<defect>`` (e.g. ``mime:close-boundary-not-found``): what the stdlib parser found broken;
- ``mime:too-deep``, ``body:truncated``, ``html:unparseable``.

MIME walk: in ``multipart/alternative`` the text/plain part wins, HTML is converted (``html.parser``; blockquotes
become ``>`` lines) only when it is the part chosen; inline text parts of other multiparts are joined. A part with
a file name or ``Content-Disposition: attachment`` is an attachment (named inline images included); ``message/*``
parts (forwards, delivery reports) are attachments and are not descended into; ``text/calendar`` and
``application/ics`` parts are kept as bytes, identical copies once.

New-text cutting is heuristic and conservative: it stops at the first reply header it recognises ("Le ... a
écrit :", "On ... wrote:", "-----Original Message-----", Outlook "De : ... Envoyé : ..." blocks, forwarded-message
separators), at the signature delimiter "-- " and at mobile footers ("Envoyé de mon iPhone"), then drops the
remaining ``>`` lines (inline replies keep their new lines). A reply header it does not know stays in the snippet.
"""

from __future__ import annotations

import codecs
import email
import email.message
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

SNIPPET_LENGTH = 300
SNIPPET_SCAN = 100_000  # new text sits at the top: the quote markers are not searched for further down
MAX_PART_BYTES = 4_000_000  # a text part larger than this is cut before decoding: nobody reads 4 MB of text
MAX_MIME_DEPTH = 30  # deeper nesting is an attack or a loop, never a real mail

# Labels whose usual meaning differs from Python's codec of the same name, or that Python does not know.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",  # mail clients label windows-1252 text as latin-1 (WHATWG does the same mapping)
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "x-mac-roman": "mac-roman",
    "x-sjis": "shift_jis",
    "unicode-1-1-utf-8": "utf-8",
}
# Codecs Python knows that are not charsets: decoding mail with them is meaningless or unsafe.
_NOT_CHARSETS = {"idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined", "unicode_internal"}
_SAFE_LABEL = re.compile(r"[^a-z0-9._:+-]")


def charset_label(charset: str) -> str:
    """A charset name fit for a repair code: lower-case, no odd characters, bounded length."""
    return _SAFE_LABEL.sub("", charset.strip().lower())[:40] or "empty"


@lru_cache(maxsize=512)
def codec_for(charset: str) -> str | None:
    """Python codec name for a MIME charset label, or None when unknown (or not a text charset)."""
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None
    try:
        b"a".decode(name)  # binary codecs (base64, rot13, zlib...) refuse with LookupError
    except UnicodeError:
        pass  # a text codec that needs more bytes (utf-16)
    except (LookupError, ValueError, TypeError):
        return None
    return None if name in _NOT_CHARSETS else name


def decode_bytes(raw: bytes, charset: str | None, repairs: list[str]) -> str:
    """Decode text bytes under a declared charset; bytes that do not fit are decoded as well as possible."""
    if raw.isascii():
        return raw.decode("ascii")
    if not charset:
        repairs.append("charset:missing")
        return _utf8_else_cp1252(raw)
    codec = codec_for(charset)
    if codec is None:
        repairs.append(f"charset:unknown:{charset_label(charset)}")
        return _utf8_else_cp1252(raw)
    if codec in ("ascii", "cp1252"):
        # A legacy label on valid multi-byte UTF-8 is nearly always a mislabel: real latin-1 text almost never
        # forms valid UTF-8 sequences.
        try:
            text = raw.decode("utf-8")
            repairs.append(f"charset:mislabeled:{charset_label(charset)}")
            return text
        except UnicodeDecodeError:
            if codec == "ascii":  # 8-bit bytes under an ASCII label: the label is wrong, cp1252 is the usual truth
                repairs.append(f"charset:mislabeled:{charset_label(charset)}")
            return _cp1252(raw)
    try:
        return raw.decode(codec)
    except UnicodeError:
        pass
    except Exception:  # why: some CJK/utf-7 codecs raise other errors on hostile input
        repairs.append(f"charset:invalid-bytes:{charset_label(charset)}")
        return _utf8_else_cp1252(raw)
    if codec == "utf-8":
        try:
            text = raw.decode("cp1252")
            repairs.append(f"charset:mislabeled:{charset_label(charset)}")
            return text
        except UnicodeDecodeError:
            pass
    repairs.append(f"charset:invalid-bytes:{charset_label(charset)}")
    try:
        return raw.decode(codec, "replace")
    except Exception:
        return raw.decode("utf-8", "replace")


def _utf8_else_cp1252(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _cp1252(raw)


def _cp1252(raw: bytes) -> str:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # five byte values are undefined in cp1252; latin-1 maps every byte
        return raw.decode("latin-1")


# ---------------------------------------------------------------------------------------------- MIME body

@dataclass(slots=True)
class BodyParts:
    """What the MIME walk found: the readable text, raw attachment names, calendar parts."""

    text: str = ""
    attachment_names: list[str] = field(default_factory=list)  # raw: may still hold RFC 2047 words
    calendar_parts: list[bytes] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


_CALENDAR_TYPES = ("text/calendar", "application/ics")
_DEFECT_SUFFIX = re.compile(r"Defect$")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def extract_body(data: bytes) -> BodyParts:
    """Walk the MIME tree of a whole message: text/plain preferred over HTML in alternatives, inline text parts
    of mixed messages joined, attachments named, text/calendar parts kept as bytes."""
    found = BodyParts()
    message = email.message_from_bytes(data)  # compat32: the fastest stdlib policy, headers left raw
    text, kind = _walk(message, found, 0)
    found.text = _as_text(text, kind, found)
    return found


def _walk(part: email.message.Message, found: BodyParts, depth: int) -> tuple[str, str]:
    """Text of ``part`` and its kind: "plain", "html" (source, converted only if chosen: html.parser is slow),
    "text" (converted HTML) or ""; collects attachments and calendar parts on the way."""
    for defect in part.defects:
        found.repairs.append("mime:" + _CAMEL.sub("-", _DEFECT_SUFFIX.sub("", type(defect).__name__)).lower())
    if depth > MAX_MIME_DEPTH:
        found.repairs.append("mime:too-deep")
        return "", ""
    content_type = part.get_content_type()
    if content_type.startswith("multipart/") and part.is_multipart():
        children = [_walk(child, found, depth + 1) for child in _children(part)]
        if content_type == "multipart/alternative":
            for text, kind in children:
                if kind == "plain" and text.strip():
                    return text, kind
            for text, kind in children:
                if kind in ("html", "text") and (converted := _as_text(text, kind, found)).strip():
                    return converted, "text"
            return "", ""
        texts = [(_as_text(text, kind, found), kind) for text, kind in children if text.strip()]
        texts = [(text, kind) for text, kind in texts if text.strip()]
        kind = texts[0][1] if texts else ""
        return "\n\n".join(text for text, _ in texts), ("text" if kind == "html" else kind)
    filename = _filename(part)
    if content_type.startswith(("message/", "multipart/")):
        # A forwarded message or a delivery report is an attachment, not text of this mail.
        if filename:
            found.attachment_names.append(filename)
        return "", ""
    if content_type in _CALENDAR_TYPES:
        calendar = _payload(part, found)
        if calendar not in found.calendar_parts:  # Google sends the invitation inline and as invite.ics
            found.calendar_parts.append(calendar)
        return "", ""
    if filename or part.get_content_disposition() == "attachment":
        found.attachment_names.append(filename)
        return "", ""
    if content_type == "text/plain":
        return decode_bytes(_payload(part, found), part.get_content_charset(), found.repairs), "plain"
    if content_type == "text/html":
        return decode_bytes(_payload(part, found), part.get_content_charset(), found.repairs), "html"
    return "", ""


def _as_text(text: str, kind: str, found: BodyParts) -> str:
    return html_to_text(text, found.repairs) if kind == "html" else text


def _children(part: email.message.Message) -> list[email.message.Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, email.message.Message)] if isinstance(payload, list) else []


def _filename(part: email.message.Message) -> str:
    try:
        name = str(part.get_filename() or "")
    except Exception:  # why: RFC 2231 values with hostile charsets or continuations can trip the stdlib
        return ""
    if "\ufffd" in name:
        name = _filename_from_8bit_headers(part) or name
    return " ".join(name.split())


def _filename_from_8bit_headers(part: email.message.Message) -> str:
    """compat32 turns raw 8-bit header bytes into U+FFFD; re-read them as UTF-8 (else cp1252) instead."""
    probe = email.message.Message()
    for header, value in part.raw_items():
        if header.lower() in ("content-disposition", "content-type") and isinstance(value, str):
            probe[header] = _utf8_else_cp1252(value.encode("ascii", "surrogateescape"))
    return str(probe.get_filename() or "")


def _payload(part: email.message.Message, found: BodyParts) -> bytes:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return b""
    if len(raw) > MAX_PART_BYTES:
        found.repairs.append("body:truncated")
        return raw[:MAX_PART_BYTES]
    return raw


# ---------------------------------------------------------------------------------------------- HTML to text

_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre", "ul",
     "ol", "section", "article", "header", "footer", "center", "dt", "dd"}
)
_TAG = re.compile(r"<[^>]*>")


class _HtmlText(HTMLParser):
    """Collects visible text line by line; ``blockquote`` content becomes ``>`` lines so quotes can be cut."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._depth = 0
        self._line_depth = 0
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.flush_line()
            if tag == "blockquote":
                self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.flush_line()
            if tag == "blockquote":
                self._depth = max(0, self._depth - 1)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            if not self._current:
                self._line_depth = self._depth
            self._current.append(data)

    def flush_line(self) -> None:
        text = " ".join("".join(self._current).split())
        self._current = []
        if text:
            self.lines.append("> " * self._line_depth + text)
        elif self.lines and self.lines[-1]:
            self.lines.append("")  # keep paragraph breaks, one blank line at most


def html_to_text(html: str, repairs: list[str]) -> str:
    """Visible text of an HTML body, one line per block; falls back to stripping tags if the parser fails."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
        parser.flush_line()
    except Exception:  # why: html.parser raises AssertionError on some malformed marked sections
        repairs.append("html:unparseable")
        return "\n".join(" ".join(line.split()) for line in _TAG.sub(" ", html).splitlines() if line.strip())
    return "\n".join(parser.lines).strip()


# ---------------------------------------------------------------------------------------------- new text

_NOT_BLANK_LINE = r"(?:(?!\n[ \t]*\n).)"  # any character, but never across a blank line
_CUT_MARKERS = re.compile(
    "|".join(
        [
            rf"^[ \t>]*Le\s{_NOT_BLANK_LINE}{{0,400}}?\sa\s+écrit\s*:",  # Gmail, Thunderbird, Apple Mail (FR)
            rf"^[ \t>]*On\s{_NOT_BLANK_LINE}{{0,400}}?\swrote\s*:",  # Gmail, Thunderbird, Apple Mail (EN)
            rf"^[ \t>]*Am\s{_NOT_BLANK_LINE}{{0,400}}?\sschrieb\s{_NOT_BLANK_LINE}{{0,100}}?:",
            r"^[ \t]*-{2,}\s*(?:Original Message|Message d'origine|Forwarded message|Message transféré"
            r"|Mensaje original|Ursprüngliche Nachricht)\s*-{2,}",
            r"^[ \t]*\*?(?:De|From|Von)\s*:[^\n]*\n[ \t]*\*?(?:Envoyé|Sent|Date|Gesendet)\s*:",  # Outlook blocks
            r"^-- ?$",  # the signature delimiter (RFC 3676); some clients drop the trailing space
            r"^[ \t]*(?:Envoyé (?:de|depuis) mon|Sent from my|Télécharger Outlook pour|Get Outlook for)"
            r"\s[^\n]{0,40}$",  # mobile footers
        ]
    ),
    re.MULTILINE | re.DOTALL | re.IGNORECASE,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>[^\n]*$", re.MULTILINE)
_RULE_LINES_AT_END = re.compile(r"(?:\n[ \t]*[_\-=*]{5,}[ \t]*)+\Z")


def new_text(text: str) -> str:
    """The part of a mail body its author wrote: before the first quote header or signature, minus ``>`` lines."""
    text = text.replace("\r\n", "\n")
    marker = _CUT_MARKERS.search(text)
    if marker:
        text = text[: marker.start()]
    text = _QUOTED_LINE.sub("", text)
    return _RULE_LINES_AT_END.sub("", "\n" + text.rstrip()).strip()


def make_snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    """About ``length`` characters of new text on one line, cut at a word boundary."""
    flat = " ".join(new_text(text[:SNIPPET_SCAN]).split())
    if len(flat) <= length:
        return flat
    cut = flat[: length - 1]
    space = cut.rfind(" ")
    if space > length * 0.8:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"
