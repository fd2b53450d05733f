"""Hand a cleaned calendar to icalendar one top-level component at a time, so one bad block costs only itself.

Two rewrites happen on the way, both so that icalendar never resolves a time zone (it caches VTIMEZONE
definitions process-wide, warns and guesses; ``ical_tz`` resolves zones per file instead):

- ``VTIMEZONE`` components are renamed ``X-CRM-VTIMEZONE`` (``VTIMEZONE_ALIAS``), so icalendar does not cache them;
- every ``TZID`` parameter becomes ``X-CRM-TZID`` (``TZID_PARAM``), so icalendar reads plain wall times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import icalendar

from agent.pipeline.ical_event import TZID_PARAM
from agent.pipeline.ical_lines import CleanText

VTIMEZONE_ALIAS = "X-CRM-VTIMEZONE"
_TZID_PARAMETER = re.compile(r";TZID=", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CalendarBlocks:
    header: Any  # an icalendar Calendar holding only the calendar's own properties (METHOD, X-WR-TIMEZONE...)
    children: tuple[Any, ...]  # one icalendar Calendar per top-level component that could be read


def read_blocks(cleaned: CleanText, repairs: list[str]) -> CalendarBlocks:
    """Split the (balanced) lines of every VCALENDAR into header lines and child blocks, and parse each."""
    header_lines: list[str] = []
    blocks: list[list[str]] = []
    depth = 0  # clean_lines balanced BEGIN/END, so depth never goes negative
    for line in cleaned.lines:
        upper = line.upper()
        is_begin, is_end = upper.startswith("BEGIN:"), upper.startswith("END:")
        if upper in ("BEGIN:VTIMEZONE", "END:VTIMEZONE"):
            line = f"{upper.split(':')[0]}:{VTIMEZONE_ALIAS}"
        elif ";" in line:
            line = hide_tzid_parameter(line)
        if depth == 0:  # only BEGIN:VCALENDAR can stand here
            depth = 1 if is_begin else 0
        elif depth == 1 and not (is_begin or is_end):
            header_lines.append(line)
        elif depth == 1 and is_end:
            depth = 0
        else:
            if depth == 1:
                blocks.append([])
            blocks[-1].append(line)
            depth += 1 if is_begin else -1 if is_end else 0
    header = _parse_block(header_lines, repairs, "header") or icalendar.Calendar()
    children = tuple(parsed for index, block in enumerate(blocks) if (parsed := _parse_block(block, repairs, index)))
    return CalendarBlocks(header, children)


def hide_tzid_parameter(line: str) -> str:
    """``DTSTART;TZID=X:…`` → ``DTSTART;X-CRM-TZID=X:…``; the value (after the first unquoted colon) is untouched."""
    in_quotes = False
    for index, char in enumerate(line):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            head = line[:index]
            if ";" not in head:
                return line
            return _TZID_PARAMETER.sub(f";{TZID_PARAM}=", head) + line[index:]
    return line


def _parse_block(lines: list[str], repairs: list[str], where: int | str) -> Any | None:
    """One component (or the calendar's own properties) → icalendar object; None with a repair when it fails."""
    text = "\r\n".join(["BEGIN:VCALENDAR", *lines, "END:VCALENDAR", ""])
    try:
        return icalendar.Calendar.from_ical(text)
    except Exception:  # noqa: BLE001 — icalendar raises ValueError and friends on lines it cannot split
        repairs.append(f"component:skipped:{where}:unparseable")
        return None
