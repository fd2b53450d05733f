"""Writes and shifts the date expressions of the demo sample: French prose dates, RFC 5322 dates, iCalendar values.

The generator formats dates with the ``format_*`` functions; the materializer moves every such expression by a
whole number of weeks with ``shift_mail_bytes`` / ``shift_ics_bytes`` without re-serializing anything. Shifting
keeps the Europe/Paris wall-clock time (a 10:15 meeting stays at 10:15 across a daylight-saving change) and, because
the shift is whole weeks, the weekday names already written stay right.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKDAYS_ABBR = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
MONTHS_ABBR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
RFC_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------------------------------------- formatting


def format_numeric(moment: date) -> str:
    """``13/11/2026`` (Thunderbird's French attribution line, quotes, invoices)."""
    return f"{moment.day:02d}/{moment.month:02d}/{moment.year}"


def format_long(moment: date) -> str:
    """``vendredi 13 novembre 2026`` (Outlook's "Envoyé :" line, invitations)."""
    return f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def format_abbreviated(moment: date, with_weekday: bool = True) -> str:
    """``ven. 13 nov. 2026`` (Gmail) or ``13 nov. 2026`` (Apple Mail)."""
    core = f"{moment.day} {MONTHS_ABBR[moment.month - 1]} {moment.year}"
    return f"{WEEKDAYS_ABBR[moment.weekday()]} {core}" if with_weekday else core


def format_iso(moment: date) -> str:
    """``2026-11-13`` (Roundcube's attribution line)."""
    return moment.isoformat()


def format_rfc5322(moment: datetime) -> str:
    """``Fri, 13 Nov 2026 10:15:00 +0100`` for Date and Received headers."""
    return format_datetime(moment)


# ---------------------------------------------------------------------------------------------- shifting values


def shift_wall_clock(moment: datetime, weeks: int) -> datetime:
    """Move an aware moment by whole weeks keeping its Europe/Paris wall-clock time."""
    local = moment.astimezone(PARIS).replace(tzinfo=None) + timedelta(weeks=weeks)
    return local.replace(tzinfo=PARIS)


def shift_epoch(seconds: float, weeks: int) -> float:
    """A POSIX timestamp moved like ``shift_wall_clock`` (file mtimes, Maildir delivery times)."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return shift_wall_clock(moment, weeks).timestamp()


def _shift_rfc_moment(moment: datetime, weeks: int) -> datetime:
    """A header date written in Paris time keeps its wall clock; one written elsewhere moves by absolute weeks."""
    if moment.utcoffset() == moment.astimezone(PARIS).utcoffset():
        moved = shift_wall_clock(moment, weeks)
        return moved.astimezone(timezone(moved.utcoffset()))
    return moment + timedelta(weeks=weeks)


# ---------------------------------------------------------------------------------------------- patterns


def _qp(text: str) -> str:
    """The quoted-printable spelling of a word (a prose date may sit inside a quoted-printable body)."""
    return "".join(ch if ord(ch) < 128 else "".join(f"={b:02X}" for b in ch.encode()) for ch in text)


def _alternatives(words: tuple[str, ...]) -> str:
    forms = {re.escape(form) for word in words for form in (word, _qp(word))}
    return "|".join(sorted(forms, key=len, reverse=True))


def _index_of(word: str, words: tuple[str, ...]) -> int:
    for index, candidate in enumerate(words):
        if word in (candidate, _qp(candidate)):
            return index
    raise ValueError(word)


_LONG = re.compile(rf"\b({'|'.join(WEEKDAYS)}) (\d{{1,2}}) ({_alternatives(MONTHS)}) (\d{{4}})\b")
_ABBREVIATED = re.compile(
    rf"(?<![\w=])(?:({_alternatives(WEEKDAYS_ABBR)}) )?(\d{{1,2}}) ({_alternatives(MONTHS_ABBR)}) (\d{{4}})\b"
)
_NUMERIC = re.compile(r"(?<![\d/])(\d{2})/(\d{2})/(\d{4})(?![\d/])")
_ISO = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?= \d{2}:\d{2})")
_RFC = re.compile(
    rf"\b(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{{1,2}}) ({'|'.join(RFC_MONTHS)}) (\d{{4}}) "
    r"(\d{2}):(\d{2})(?::(\d{2}))? ([+-]\d{4})\b"
)
_ICAL_PROPERTY = re.compile(r"^(DTSTART|DTEND|DUE|RECURRENCE-ID|EXDATE|RDATE|DTSTAMP|CREATED|LAST-MODIFIED)([;:])(.*)$")
_ICAL_VALUE = re.compile(r"\b(\d{8})(?:T(\d{6})(Z?))?\b")
_UNTIL = re.compile(r"UNTIL=(\d{8}(?:T\d{6}Z?)?)")


def _shift_prose(text: str, weeks: int, quoted_printable: bool) -> str:
    """Every French prose date of one line, moved by whole weeks (weekday words are kept as written)."""

    def month_word(words: tuple[str, ...], month: int) -> str:
        return _qp(words[month - 1]) if quoted_printable else words[month - 1]

    def long_date(match: re.Match[str]) -> str:
        moved = date(int(match[4]), _index_of(match[3], MONTHS) + 1, int(match[2])) + timedelta(weeks=weeks)
        return f"{match[1]} {moved.day} {month_word(MONTHS, moved.month)} {moved.year}"

    def abbreviated(match: re.Match[str]) -> str:
        moved = date(int(match[4]), _index_of(match[3], MONTHS_ABBR) + 1, int(match[2])) + timedelta(weeks=weeks)
        prefix = f"{match[1]} " if match[1] else ""
        return f"{prefix}{moved.day} {month_word(MONTHS_ABBR, moved.month)} {moved.year}"

    def numeric(match: re.Match[str]) -> str:
        try:
            moved = date(int(match[3]), int(match[2]), int(match[1])) + timedelta(weeks=weeks)
        except ValueError:  # 31/31/2026 is not a date: leave it alone
            return match[0]
        return format_numeric(moved)

    def iso(match: re.Match[str]) -> str:
        try:
            moved = date(int(match[1]), int(match[2]), int(match[3])) + timedelta(weeks=weeks)
        except ValueError:
            return match[0]
        return format_iso(moved)

    # One pass over the original line: "13 mai 2026" is both a long and an abbreviated date, never shift twice.
    taken: list[tuple[int, int, str]] = []
    for pattern, replace in ((_LONG, long_date), (_ABBREVIATED, abbreviated), (_NUMERIC, numeric), (_ISO, iso)):
        for match in pattern.finditer(text):
            if all(match.end() <= start or match.start() >= end for start, end, _ in taken):
                taken.append((match.start(), match.end(), replace(match)))
    for start, end, replacement in sorted(taken, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _shift_rfc(text: str, weeks: int) -> str:
    def replace(match: re.Match[str]) -> str:
        sign = 1 if match[8][0] == "+" else -1
        offset = timezone(sign * timedelta(hours=int(match[8][1:3]), minutes=int(match[8][3:5])))
        moment = datetime(int(match[4]), RFC_MONTHS.index(match[3]) + 1, int(match[2]), int(match[5]),
                          int(match[6]), int(match[7] or 0), tzinfo=offset)
        rendered = format_rfc5322(_shift_rfc_moment(moment, weeks))
        if not match[1]:
            rendered = rendered.split(", ", 1)[1]
        if match[7] is None:
            rendered = rendered[:-9] + rendered[-6:]  # drop ":SS" as the original did
        return rendered

    return _RFC.sub(replace, text)


def _shift_ical_value(value: str, weeks: int, zoned: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[2] is None:
            return (datetime.strptime(match[1], "%Y%m%d") + timedelta(weeks=weeks)).strftime("%Y%m%d")
        moment = datetime.strptime(match[1] + match[2], "%Y%m%d%H%M%S")
        if match[3] == "Z" and not zoned:
            moved = shift_wall_clock(moment.replace(tzinfo=timezone.utc), weeks).astimezone(timezone.utc)
            return moved.strftime("%Y%m%dT%H%M%SZ")
        return (moment + timedelta(weeks=weeks)).strftime("%Y%m%dT%H%M%S") + match[3]

    return _ICAL_VALUE.sub(replace, value)


def _shift_ical_line(line: str, weeks: int) -> str:
    """One content line: date properties and RRULE's UNTIL move, everything else is kept."""
    match = _ICAL_PROPERTY.match(line)
    if match:
        if match[2] == ";":
            params, _, value = match[3].rpartition(":")
            return f"{match[1]};{params}:" + _shift_ical_value(value, weeks, "TZID=" in params)
        return f"{match[1]}:" + _shift_ical_value(match[3], weeks, False)
    if line.startswith("RRULE:"):
        return _UNTIL.sub(lambda found: "UNTIL=" + _shift_ical_value(found[1], weeks, False), line)
    return line


# ---------------------------------------------------------------------------------------------- whole files

_QP_LINE_LIMIT = 76
_HAS_YEAR = re.compile(r"\d{4}")
_BOUNDARY = re.compile(r'boundary="?([^";\s]+)"?', re.IGNORECASE)


def _rewrap_quoted_printable(line: str) -> str:
    """Split an encoded line grown past 76 characters with soft breaks, never inside an =XX escape."""
    pieces = []
    while len(line) > _QP_LINE_LIMIT:
        cut = _QP_LINE_LIMIT - 1
        escape_start = line.rfind("=", cut - 2, cut)
        if escape_start != -1:
            cut = escape_start
        pieces.append(line[:cut] + "=")
        line = line[cut:]
    pieces.append(line)
    return "\n".join(pieces)


def shift_mail_bytes(data: bytes, weeks: int) -> bytes:
    """A whole RFC 5322 message with every header, prose and iCalendar date moved by ``weeks``.

    Works line by line on the raw bytes, so nothing else changes: the transfer encoding in force (the last
    Content-Transfer-Encoding header seen) decides how a non-ASCII month name is written back; quoted-printable
    lines joined by soft breaks are read as one line (a date may straddle a break); base64 parts and VTIMEZONE
    blocks are left as they are.
    """
    if weeks == 0:
        return data
    text = data.decode("utf-8", errors="surrogateescape")
    boundaries = tuple("--" + found for found in _BOUNDARY.findall(text))
    encoding = "7bit"
    in_timezone = False
    out: list[str] = []
    pending: list[str] = []  # physical quoted-printable lines ending in a soft break

    def emit(physical: list[str], header: bool = False) -> None:
        logical = "".join(line[:-1] for line in physical[:-1]) + physical[-1]
        if not _HAS_YEAR.search(logical):  # every date form carries a four-digit year: most lines have none
            out.extend(physical)
            return
        quoted_printable = encoding == "quoted-printable" and not header
        changed = _shift_ical_line(_shift_prose(_shift_rfc(logical, weeks), weeks, quoted_printable), weeks)
        if changed == logical:
            out.extend(physical)
        elif quoted_printable and len(changed) > _QP_LINE_LIMIT:
            out.append(_rewrap_quoted_printable(changed))
        else:
            out.append(changed)

    in_headers = True
    for line in text.split("\n"):
        if boundaries and line.startswith(boundaries):
            if pending:  # a soft break right before a part ends: flush what was gathered
                emit(pending)
                pending = []
            in_headers, encoding = True, "7bit"  # a new part: its own header says how it is encoded
            out.append(line)
            continue
        if in_headers:
            if line.lower().startswith("content-transfer-encoding:"):
                encoding = line.split(":", 1)[1].strip().lower()
            in_headers = line.strip() != ""
            emit([line], header=True)
            continue
        if line.startswith("BEGIN:VTIMEZONE"):
            in_timezone = True
        elif line.startswith("END:VTIMEZONE"):
            in_timezone = False
        if encoding == "base64" or in_timezone:
            out.append(line)
        elif encoding == "quoted-printable" and line.endswith("="):
            pending.append(line)
        else:
            emit([*pending, line])
            pending = []
    if pending:
        emit(pending)
    return "\n".join(out).encode("utf-8", errors="surrogateescape")


def shift_ics_bytes(data: bytes, weeks: int) -> bytes:
    """An iCalendar file with DTSTART/DTEND/RECURRENCE-ID/EXDATE/DTSTAMP/UNTIL... moved; VTIMEZONE left alone."""
    if weeks == 0:
        return data
    in_timezone = False
    out = []
    for line in data.decode("utf-8").split("\n"):
        if line.startswith("BEGIN:VTIMEZONE"):
            in_timezone = True
        elif line.startswith("END:VTIMEZONE"):
            in_timezone = False
        out.append(line if in_timezone else _shift_ical_line(line, weeks))
    return "\n".join(out).encode("utf-8")
