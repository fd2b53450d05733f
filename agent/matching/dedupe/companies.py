"""Company de-duplication: which organisations in the CRM are probably the same one, and why.

Comparisons: SIREN (the French company number; equal is near-proof, different near-disproof), the name with
legal forms stripped ("Société Générale" = "SOCIETE GENERALE SA"), graded exact / close (typo, word order) /
partial (one name's words within the other's, or an acronym) / differ, web and mail domains (registrable part),
phones in E.164, house number, street, postcode and city. Company names are compared on characters (Indel
ratio), not Jaro-Winkler, so that two shops with a shared first word ("Boulangerie Martin" / "Boulangerie
Dupont") do not look alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jellyfish
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from agent.matching.dedupe import compare as cmp
from agent.matching.dedupe.engine import (
    Schema,
    check_thresholds,
    check_unique_ids,
    normalise_exclusions,
    ordered_reasons,
    run,
    simple_reason,
    to_scored_pair,
)
from agent.matching.dedupe.model import NULL, Comparison, Level, Pattern
from agent.matching.dedupe.normalize import (
    fold,
    is_free_mail_domain,
    normalize_company_name,
    normalize_domain,
    normalize_phone,
    normalize_postcode,
    split_street,
)
from agent.matching.dedupe.records import CompanyRecord, ScoredPair

_NON_DIGIT = re.compile(r"\D+")
# Words too common in French company names to block on by themselves.
_GENERIC_WORDS = frozenset({"societe", "groupe", "ets", "cabinet", "agence", "atelier", "boulangerie", "garage",
                            "entreprise", "france", "services", "conseil", "de", "du", "des", "la", "le", "les",
                            "l", "d", "et", "the", "and", "of"})


@dataclass(frozen=True, slots=True)
class PreparedCompany:
    id: int
    name: str
    squashed: str
    domains: frozenset[str]
    phones: frozenset[str]
    number: str
    lines: tuple[str, ...]
    postcode: str
    city: str
    siren: str


def _siren(raw: str) -> str:
    """The 9-digit SIREN, also from a 14-digit SIRET; anything else is treated as missing."""
    digits = _NON_DIGIT.sub("", raw or "")
    return digits[:9] if len(digits) in (9, 14) else ""


def prepare_company(record: CompanyRecord) -> PreparedCompany:
    name = normalize_company_name(record.name)
    domains = (normalize_domain(raw) for raw in record.domains or ())
    number, lines = split_street(record.street)
    return PreparedCompany(
        id=record.id,
        name=name,
        squashed=name.replace(" ", ""),
        domains=frozenset(d for d in domains if d and not is_free_mail_domain(d)),
        phones=frozenset(p for p in (normalize_phone(raw, record.country or "FR") for raw in record.phones or ()) if p),
        number=number,
        lines=lines,
        postcode=normalize_postcode(record.postcode),
        city=fold(record.city),
        siren=_siren(record.siren),
    )


NAME_EXACT, NAME_CLOSE, NAME_PARTIAL, NAME_DIFFER = range(4)


def company_name_level(a: PreparedCompany, b: PreparedCompany) -> int:
    if not a.name or not b.name:
        return NULL
    if a.squashed == b.squashed:
        return NAME_EXACT
    if Indel.normalized_similarity(a.squashed, b.squashed) >= 0.9 or fuzz.token_sort_ratio(a.name, b.name) >= 90:
        return NAME_CLOSE
    a_words, b_words = a.name.split(), b.name.split()
    if set(a_words) <= set(b_words) or set(b_words) <= set(a_words):
        return NAME_PARTIAL
    if a.squashed == "".join(w[0] for w in b_words) or b.squashed == "".join(w[0] for w in a_words):
        return NAME_PARTIAL  # "sg" for "societe generale"
    return NAME_DIFFER


def company_block_keys(c: PreparedCompany) -> Iterable[str]:
    if c.siren:
        yield "s:" + c.siren
    for domain in c.domains:
        yield "d:" + domain
    for phone in c.phones:
        yield "p:" + phone
    if c.squashed:
        yield "n:" + c.squashed
        distinctive = [w for w in c.name.split() if w not in _GENERIC_WORDS and len(w) > 1]
        for word in distinctive[:2]:
            yield "w:" + jellyfish.soundex(word)
        if c.postcode:
            yield f"pn:{c.postcode}:{c.squashed[:3]}"
    if c.postcode and c.number:
        yield f"ph:{c.postcode}:{c.number}"


_SET = (Level("shared", 0.6, 0.01), Level("none shared", 0.4, 0.99))
_GRADED = (Level("exact", 0.85, 0.3), Level("close", 0.1, 0.05), Level("differ", 0.05, 0.65))
COMPARISONS = (
    Comparison("siren", (Level("exact", 0.98, 0.0001), Level("differ", 0.02, 0.9999)), fixed=True),
    Comparison(
        "name", (Level("exact", 0.7, 0.02), Level("close", 0.15, 0.03), Level("partial", 0.1, 0.1),
                 Level("differ", 0.05, 0.85))
    ),
    Comparison("domain", _SET),
    Comparison("phone", _SET),
    Comparison("house_number", (Level("exact", 0.85, 0.1), Level("close", 0.05, 0.05), Level("differ", 0.1, 0.85))),
    Comparison(
        "street",
        (Level("exact", 0.6, 0.01), Level("close", 0.15, 0.02), Level("subset", 0.15, 0.02),
         Level("partial", 0.05, 0.1), Level("similar", 0.03, 0.1), Level("differ", 0.02, 0.75)),
    ),
    Comparison("postcode", _GRADED),
    Comparison("city", _GRADED),
)


def _as_set(value: str) -> frozenset[str]:
    return frozenset((value,)) if value else frozenset()


def compare_companies(a: PreparedCompany, b: PreparedCompany) -> Pattern:
    return (
        cmp.set_level(_as_set(a.siren), _as_set(b.siren)),
        company_name_level(a, b),
        cmp.set_level(a.domains, b.domains),
        cmp.set_level(a.phones, b.phones),
        cmp.code_level(a.number, b.number),
        cmp.street_level(a.lines, b.lines),
        cmp.code_level(a.postcode, b.postcode),
        cmp.place_level(a.city, b.city),
    )


def explain_companies(
    a: PreparedCompany, b: PreparedCompany, pattern: Pattern, weights: list[list[float]]
) -> tuple[str, ...]:
    evidence: list[tuple[float, str]] = []
    if pattern[0] != NULL:
        text = f"same SIREN {a.siren}" if pattern[0] == 0 else f"different SIREN ({a.siren} / {b.siren})"
        evidence.append((weights[0][pattern[0]], text))
    if pattern[1] != NULL:
        words = {NAME_EXACT: "same name", NAME_CLOSE: "names close", NAME_PARTIAL: "one name contains the other",
                 NAME_DIFFER: "names differ"}
        detail = f" {a.name}" if pattern[1] == NAME_EXACT else f" ({a.name} / {b.name})"
        evidence.append((weights[1][pattern[1]], words[pattern[1]] + detail))
    for index, label, x, y in ((2, "domain", a.domains, b.domains), (3, "phone", a.phones, b.phones)):
        if pattern[index] != NULL:
            shared = sorted(x & y)
            text = f"same {label} {shared[0]}" if shared else f"no {label} in common"
            evidence.append((weights[index][pattern[index]], text))
    simple = (
        (4, "house number", a.number, b.number),
        (5, "street", ", ".join(a.lines), ", ".join(b.lines)),
        (6, "postcode", a.postcode, b.postcode),
        (7, "city", a.city, b.city),
    )
    for index, label, x, y in simple:
        if pattern[index] != NULL:
            evidence.append(simple_reason(label, pattern[index], weights[index][pattern[index]], x, y))
    return ordered_reasons(evidence)


def _name_sort_key(c: PreparedCompany) -> str:
    return c.squashed


COMPANY_SCHEMA: Schema[PreparedCompany] = Schema(
    comparisons=COMPARISONS,
    block_keys=company_block_keys,
    sort_keys=(_name_sort_key,),
    compare=compare_companies,
    explain=explain_companies,
)


def find_company_duplicates(
    records: Sequence[CompanyRecord],
    *,
    high: float = 0.95,
    low: float = 0.5,
    exclude: frozenset[tuple[int, int]] = frozenset(),
) -> list[ScoredPair]:
    """Pairs of companies scoring at least ``low``, best first (then by ids); ``a_id < b_id``.

    Same contract as ``find_contact_duplicates``: ``high`` marks auto-merge candidates, ``exclude`` pairs never
    come back.
    """
    check_thresholds(high, low)
    check_unique_ids(records, "company")
    prepared = [prepare_company(r) for r in sorted(records, key=lambda r: r.id)]
    scored, model = run(COMPANY_SCHEMA, prepared)
    excluded = normalise_exclusions(exclude)
    out = [
        to_scored_pair(COMPANY_SCHEMA, model, prepared[s.i], prepared[s.j], prepared[s.i].id, prepared[s.j].id, s)
        for s in scored
        if s.score >= low and (prepared[s.i].id, prepared[s.j].id) not in excluded
    ]
    return sorted(out, key=lambda p: (-p.score, p.a_id, p.b_id))
