"""Parse vCard bytes (2.1, 3.0, 4.0; one or many cards per file) into ``VCardContact`` values; never raises.

What is read: FN, N (family and given names), EMAIL (normalized with ``normalize_address``; preferred first), TEL
(as written, without a ``tel:`` prefix), ORG (the organisation's name, not its units), TITLE and UID. Groups
(``item1.EMAIL``), vCard 2.1 bare parameters (``TEL;WORK;VOICE:``), QUOTED-PRINTABLE values with their CHARSET and
soft line breaks, folded lines and backslash escapes are handled; PHOTO and other binary values are skipped.

Repairs are per contact, stable codes: ``charset:cp1252`` (the file was not UTF-8), ``fn:from-n`` /
``fn:from-org`` / ``fn:from-email`` (no FN: the display name was built), ``email:invalid`` (an EMAIL that is not an
address was dropped), ``line:unparseable``, ``qp:undecodable``, ``component:truncated:VCARD`` (the last card was cut
off; it is kept, since a card has no lines that change the meaning of the others). A card with no name, address or
phone at all is not returned.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass

from agent.matching.addresses import normalize_address
from agent.pipeline.ical_lines import decode_text, split_begin_end, unfold

_GROUP_PREFIX = re.compile(r"^[A-Za-z0-9-]+\.")
_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\", ":": ":"}
_ESCAPE = re.compile(r"\\(.)")
_SKIPPED = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})


@dataclass(frozen=True, slots=True)
class VCardContact:
    """One person (or organisation) from a vCard, ready for contact matching and de-duplication."""

    full_name: str
    first_name: str = ""
    last_name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    org: str = ""
    title: str = ""
    uid: str = ""
    repairs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Property:
    name: str
    params: dict[str, list[str]]
    value: str  # raw: escapes still in, QUOTED-PRINTABLE decoded

    def has_type(self, wanted: str) -> bool:
        return any(wanted in part.upper().split(",") for part in self.params.get("TYPE", []))


def parse_vcard(data: bytes) -> tuple[VCardContact, ...]:
    """vCard bytes → contacts, in file order. Garbage gives ``()``; never raises."""
    try:
        return read_cards(data)
    except Exception:  # noqa: BLE001 — the last line of defence; the tests run read_cards to prove it unused
        return ()


def read_cards(data: bytes) -> tuple[VCardContact, ...]:
    """``parse_vcard`` without its safety net, for tests: bad input is repaired, only a bug raises."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    text, file_repairs = decode_text(_join_soft_line_breaks(data))
    contacts = []
    for lines, card_repairs in _cards(unfold(text)):
        contact = _contact(lines, [*file_repairs, *card_repairs])
        if contact is not None:
            contacts.append(contact)
    return tuple(contacts)


def _join_soft_line_breaks(data: bytes) -> bytes:
    """vCard 2.1 QUOTED-PRINTABLE values end a physical line with ``=`` and go on, verbatim, on the next one.

    Done on the bytes, before unfolding: a continuation that starts with a blank is content here, not a fold.
    """
    joined: list[bytes] = []
    continuing = False
    for line in re.split(rb"\r\n|\r|\n", data):
        if continuing:
            joined[-1] = joined[-1][:-1] + line
        else:
            joined.append(line)
        head = joined[-1].split(b":", 1)[0].upper()
        continuing = b"QUOTED-PRINTABLE" in head and joined[-1].endswith(b"=")
    return b"\r\n".join(joined)


def _cards(lines: list[str]) -> list[tuple[list[str], list[str]]]:
    """The content lines of each top-level VCARD (nested 2.1 AGENT cards are left out)."""
    cards: list[tuple[list[str], list[str]]] = []
    depth = 0
    for line in lines:
        marker = split_begin_end(line)
        if marker is not None and marker[1] == "VCARD":
            if marker[0] == "BEGIN":
                depth += 1
                if depth == 1:
                    cards.append(([], []))
            elif depth:
                depth -= 1
            continue
        if depth == 1:
            cards[-1][0].append(line)
    if depth:
        cards[-1][1].append("component:truncated:VCARD")
    return cards


def _contact(lines: list[str], repairs: list[str]) -> VCardContact | None:
    properties = []
    for line in lines:
        prop = _read_property(line, repairs)
        if prop is not None:
            properties.append(prop)
    first = {prop.name: prop for prop in reversed(properties)}  # the first of each name wins
    family, given = "", ""
    if "N" in first:
        parts = _structured(first["N"].value)
        family, given = (parts + ["", ""])[:2]
    org = next((part for part in _structured(first["ORG"].value) if part), "") if "ORG" in first else ""
    emails = _emails([prop for prop in properties if prop.name == "EMAIL"], repairs)
    phones = tuple(dict.fromkeys(_phone(prop.value) for prop in properties if prop.name == "TEL" and prop.value))
    full_name = _clean(_unescape(first["FN"].value)) if "FN" in first else ""
    if not full_name:
        full_name = _fallback_name(given, family, org, emails, repairs)
    if not (full_name or emails or phones):
        return None
    return VCardContact(
        full_name=full_name,
        first_name=given,
        last_name=family,
        emails=emails,
        phones=tuple(phone for phone in phones if phone),
        org=org,
        title=_clean(_unescape(first["TITLE"].value)) if "TITLE" in first else "",
        uid=_clean(_unescape(first["UID"].value)) if "UID" in first else "",
        repairs=tuple(dict.fromkeys(repairs)),
    )


def _read_property(line: str, repairs: list[str]) -> _Property | None:
    head, value = _split_head(line)
    if head is None:
        repairs.append("line:unparseable")
        return None
    pieces = _split_unquoted(head, ";")
    name = _GROUP_PREFIX.sub("", pieces[0].strip()).upper()
    if not name or name in _SKIPPED:
        return None
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        key, sep, raw = piece.partition("=")
        key, raw = (key.strip().upper(), raw) if sep else ("TYPE", key)  # vCard 2.1: TEL;WORK;VOICE
        if key == "TYPE" and raw.strip().upper() in ("QUOTED-PRINTABLE", "8BIT", "BASE64", "B"):
            key = "ENCODING"  # 2.1 also writes the encoding bare
        params.setdefault(key, []).extend(v.strip().strip('"') for v in _split_unquoted(raw, ","))
    if any(encoding.upper() == "QUOTED-PRINTABLE" for encoding in params.get("ENCODING", [])):
        value = _decode_quoted_printable(value, (params.get("CHARSET") or ["utf-8"])[0], repairs)
    elif any(encoding.upper() in ("BASE64", "B") for encoding in params.get("ENCODING", [])):
        return None
    return _Property(name, params, value)


def _split_head(line: str) -> tuple[str | None, str]:
    in_quotes = False
    for index, char in enumerate(line):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            return line[:index], line[index + 1 :]
    return None, ""


def _split_unquoted(text: str, separator: str) -> list[str]:
    parts, current, in_quotes = [], [], False
    for char in text:
        if char == '"':
            in_quotes = not in_quotes
        if char == separator and not in_quotes:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _decode_quoted_printable(value: str, charset: str, repairs: list[str]) -> str:
    raw = quopri.decodestring(value.encode("utf-8", "replace"))
    for encoding in (charset, "utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    repairs.append("qp:undecodable")
    return raw.decode("utf-8", "replace")


def _structured(value: str) -> list[str]:
    """``Dupont;Jean;;;`` → ``['Dupont', 'Jean', '', '', '']``; an escaped ``\\;`` stays inside its part."""
    parts = re.split(r"(?<!\\);", value)
    return [_clean(_unescape(part)) for part in parts]


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda match: _ESCAPES.get(match.group(1), match.group(0)), value)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _emails(properties: list[_Property], repairs: list[str]) -> tuple[str, ...]:
    preferred, others = [], []
    for prop in properties:
        address = normalize_address(_unescape(prop.value).strip())
        if address is None:
            if prop.value.strip():
                repairs.append("email:invalid")
            continue
        is_preferred = prop.has_type("PREF") or (prop.params.get("PREF") or ["99"])[0].strip() == "1"
        (preferred if is_preferred else others).append(address)
    return tuple(dict.fromkeys([*preferred, *others]))


def _phone(value: str) -> str:
    text = _unescape(value).strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    return _clean(text.split(";ext=")[0] if ";ext=" in text else text)


def _fallback_name(given: str, family: str, org: str, emails: tuple[str, ...], repairs: list[str]) -> str:
    if given or family:
        repairs.append("fn:from-n")
        return _clean(f"{given} {family}")
    if org:
        repairs.append("fn:from-org")
        return org
    if emails:
        repairs.append("fn:from-email")
        return emails[0]
    return ""
