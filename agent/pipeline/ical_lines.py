"""Turn raw iCalendar / vCard bytes into clean, unfolded content lines with balanced BEGIN/END, saying what was fixed.

Both ``parse_ical`` and ``parse_vcard`` read their input through here, so a broken producer is repaired the same
way for both formats. Nothing here raises on bad input:

- folds are removed before decoding (producers fold by octets, splitting a UTF-8 character);
- bytes are decoded as UTF-8 (a BOM is dropped), else UTF-16 when a UTF-16 BOM says so, else Windows-1252 (Outlook
  on French Windows writes it), with a repair code;
- control characters (NUL included) are removed;
- a line that is not ``NAME[;PARAMS]:VALUE`` is dropped (``line:dropped:<n>``, n is the 1-based unfolded line);
- ``END`` lines that close nothing are dropped, components a producer forgot to close are closed;
- a component still open at the end of the input (a truncated download) is dropped whole, because what it lost
  (attendees, the end time) cannot be known; the outermost container is closed so the rest survives;
- components nested deeper than ``max_depth`` are dropped (hostile inputs nest hundreds deep).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MAX_LINE_REPAIRS = 20  # past this, one "line:dropped:more" keeps the repair list readable
_CONTENT_LINE = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)?[;:]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(r"\r\n[ \t]|\n[ \t]|\r[ \t]")
_BYTE_FOLD = re.compile(rb"\r\n[ \t]|\n[ \t]|\r[ \t]")


@dataclass(frozen=True, slots=True)
class CleanText:
    """The cleaned lines (one logical content line each) and the repair codes, in input order."""

    lines: tuple[str, ...]
    repairs: tuple[str, ...]
    found_container: bool  # at least one BEGIN of the expected container (or a known child) was seen


def decode_text(data: bytes | str) -> tuple[str, list[str]]:
    """Bytes → text: UTF-8, UTF-16 (with a BOM) or Windows-1252; control characters removed."""
    repairs: list[str] = []
    if isinstance(data, str):  # a caller holding text already: no charset to guess
        data = data.encode("utf-8", "surrogatepass")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
        repairs.append("charset:utf-16")
    else:
        data = _BYTE_FOLD.sub(b"", data)  # unfold first: Outlook folds by octets, splitting UTF-8 sequences
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            repairs.append("charset:cp1252")
    cleaned = _CONTROL.sub("", text)
    if len(cleaned) != len(text):
        repairs.append("text:control-characters")
    return cleaned, repairs


def unfold(text: str) -> list[str]:
    """RFC 5545 §3.1 unfolding; every kind of line ending is accepted."""
    return [line for line in _NEWLINES.split(_FOLD.sub("", text)) if line.strip()]


def is_content_line(line: str) -> bool:
    return _CONTENT_LINE.match(line) is not None


def split_begin_end(line: str) -> tuple[str, str] | None:
    """``'BEGIN:VEVENT'`` → ``('BEGIN', 'VEVENT')``; None for any other line."""
    head, sep, value = line.partition(":")
    keyword = head.split(";")[0].strip().upper()  # "BEGIN;X=1:VEVENT" still opens a component for icalendar
    if sep and keyword in ("BEGIN", "END"):
        return keyword, value.strip().upper()
    return None


def clean_lines(
    text: str, *, container: str, children: frozenset[str] = frozenset(), max_depth: int = 8
) -> CleanText:
    """Balance BEGIN/END around ``container`` (``VCALENDAR``, ``VCARD``); see the module docstring for the rules.

    ``children``: component names that may appear without their container (a bare ``VEVENT`` pasted from an
    invitation): they are wrapped in one ``container`` with the repair ``<container>:missing``.
    """
    out: list[str] = []
    repairs: list[str] = []
    stack: list[tuple[str, int]] = []  # (component name, index in out of its BEGIN line)
    skipping_depth = 0  # > 0 while inside a component that is too deep to keep
    found = False
    wrapped = False
    dropped = 0
    for number, line in enumerate(unfold(text), start=1):
        if not is_content_line(line):
            dropped += 1
            if dropped <= _MAX_LINE_REPAIRS:
                repairs.append(f"line:dropped:{number}")
            elif dropped == _MAX_LINE_REPAIRS + 1:
                repairs.append("line:dropped:more")
            continue
        marker = split_begin_end(line)
        if skipping_depth:
            if marker is not None:
                skipping_depth += 1 if marker[0] == "BEGIN" else -1
            continue
        if marker is None:
            if stack:
                out.append(line)
            else:
                repairs.append(f"line:outside:{number}")
            continue
        keyword, name = marker
        if keyword == "BEGIN":
            if not stack and name != container:
                if name not in children:
                    repairs.append(f"component:outside:{name}")
                    skipping_depth = 1
                    continue
                if not wrapped:
                    repairs.append(f"{container.lower()}:missing")
                    wrapped = True
                stack.append((container, len(out)))
                out.append(f"BEGIN:{container}")
            if len(stack) >= max_depth:
                repairs.append(f"component:too-deep:{name}")
                skipping_depth = 1
                continue
            found = True
            stack.append((name, len(out)))
            out.append(f"BEGIN:{name}")
            continue
        # END
        open_names = [open_name for open_name, _ in stack]
        if name not in open_names:
            repairs.append(f"line:stray-end:{number}")
            continue
        while stack[-1][0] != name:
            repairs.append(f"component:unclosed:{stack[-1][0]}")
            out.append(f"END:{stack.pop()[0]}")
        stack.pop()
        out.append(f"END:{name}")
    if stack:
        _close_truncated(out, stack, repairs, container, synthetic_container=wrapped)
    return CleanText(tuple(out), tuple(repairs), found)


def _close_truncated(
    out: list[str], stack: list[tuple[str, int]], repairs: list[str], container: str, *, synthetic_container: bool
) -> None:
    """Drop the components cut by the end of the input; close the containers that still hold complete ones."""
    cut_at = None
    for name, begin_index in stack:
        if name == container and cut_at is None:
            continue
        if cut_at is None:
            cut_at = begin_index
            repairs.append(f"component:truncated:{name}")
    if cut_at is not None:
        del out[cut_at:]
        stack[:] = [(name, index) for name, index in stack if index < cut_at]
    truncated_container = any(name == container for name, _ in stack)
    if truncated_container and cut_at is None and not synthetic_container:
        repairs.append(f"component:truncated:{container}")
    for name, _ in reversed(stack):
        out.append(f"END:{name}")
