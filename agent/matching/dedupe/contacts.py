"""Contact de-duplication: which people in the CRM are probably the same person, and why.

Comparisons (each a Fellegi-Sunter comparison, see ``model.py``): first name and last name (compared in the
better of direct or swapped order, accents/case/hyphens folded, initials and compound-name parts recognised),
emails, phones in E.164, company (legal forms stripped), house number, street lines, postcode and city.
Blocking keys: personal emails, phones, the order-free name key, phonetic codes of the name, last name plus first
initial, postcode / city / company domain / company plus a name prefix, house number plus postcode, city or any
street line; plus sorted neighbourhoods on name and street. Exact agreement on a rare first or last name weighs
more than on a common one (term-frequency adjustment, see ``engine.term_frequency_adjustment``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jellyfish

from agent.matching.dedupe import compare as cmp
from agent.matching.dedupe.engine import (
    Schema,
    Scored,
    check_thresholds,
    check_unique_ids,
    normalise_exclusions,
    ordered_reasons,
    run,
    simple_reason,
    to_scored_pair,
    weight_of,
)
from agent.matching.dedupe.model import NULL, Comparison, Level, Pattern
from agent.matching.dedupe.normalize import (
    company_domain_of,
    fold,
    name_key,
    normalize_company_name,
    normalize_email,
    normalize_phone,
    normalize_postcode,
    split_street,
)
from agent.matching.dedupe.records import ContactRecord, ScoredPair

# Local parts that name a role, not a person: sharing "contact@acme.fr" does not make two people one.
ROLE_LOCAL_PARTS = frozenset({"contact", "info", "infos", "accueil", "admin", "bonjour", "commercial", "compta",
                              "comptabilite", "direction", "hello", "office", "sales", "secretariat", "service",
                              "support", "vente", "ventes", "rh", "noreply", "no-reply", "facturation", "devis"})


@dataclass(frozen=True, slots=True)
class PreparedContact:
    id: int
    first: str
    last: str
    emails: frozenset[str]
    personal_emails: frozenset[str]
    phones: frozenset[str]
    company: str
    domains: frozenset[str]
    number: str
    lines: tuple[str, ...]
    postcode: str
    city: str
    key: str


def prepare_contact(record: ContactRecord) -> PreparedContact:
    emails = frozenset(e for e in (normalize_email(raw) for raw in record.emails or ()) if e)
    phones = frozenset(p for p in (normalize_phone(raw, record.country or "FR") for raw in record.phones or ()) if p)
    number, lines = split_street(record.street)
    return PreparedContact(
        id=record.id,
        first=fold(record.first_name),
        last=fold(record.last_name),
        emails=emails,
        personal_emails=frozenset(e for e in emails if e.partition("@")[0] not in ROLE_LOCAL_PARTS),
        phones=phones,
        company=normalize_company_name(record.company),
        domains=frozenset(d for d in (company_domain_of(e) for e in emails) if d),
        number=number,
        lines=lines,
        postcode=normalize_postcode(record.postcode),
        city=fold(record.city),
        key=name_key(record.first_name, record.last_name),
    )


def _phonetic(word: str) -> str:
    return jellyfish.soundex(word) if word else ""


def contact_block_keys(c: PreparedContact) -> Iterable[str]:
    for email in c.personal_emails:
        yield "e:" + email
    for phone in c.phones:
        yield "p:" + phone
    if c.key:
        yield "n:" + c.key
    names = [n.replace(" ", "") for n in (c.first, c.last) if n]
    if len(names) == 2:
        yield "sx:" + ":".join(sorted(_phonetic(n) for n in names))
        yield f"ni:{names[1]}:{names[0][:1]}"  # last name + first initial, and the same for swapped names
        yield f"ni:{names[0]}:{names[1][:1]}"
    city = c.city.replace(" ", "")
    for name in names:  # both first and last under one namespace, so swapped names still meet
        if c.postcode:
            yield f"pn:{c.postcode}:{name[:2]}"
        if city:
            yield f"cn:{city}:{name[:2]}"
        for domain in c.domains:
            yield f"dn:{domain}:{name[:2]}"
        if c.company:
            yield f"kn:{c.company}:{name[:2]}"
    if c.postcode and c.number:
        yield f"ph:{c.postcode}:{c.number}"
    for line in c.lines:  # every line: a complement written before the street must not hide it
        yield f"hl:{c.number}:{line.replace(' ', '')[:5]}"
    if c.number and city:
        yield f"hc:{c.number}:{city}"


def _street_sort_key(c: PreparedContact) -> str:
    return "".join(c.lines).replace(" ", "") + ":" + c.number if c.lines else ""


def _name_sort_key(c: PreparedContact) -> str:
    return c.key.replace(" ", "")


_NAME_LEVELS = (
    Level("exact", 0.85, 0.05),
    Level("close", 0.08, 0.03),
    Level("partial", 0.03, 0.02),
    Level("similar", 0.02, 0.10),
    Level("differ", 0.02, 0.80),
)
COMPARISONS = (
    Comparison("first_name", _NAME_LEVELS),
    Comparison("last_name", _NAME_LEVELS),
    Comparison("email", (Level("shared", 0.5, 0.002), Level("none shared", 0.5, 0.998))),
    Comparison("phone", (Level("shared", 0.6, 0.01), Level("none shared", 0.4, 0.99))),
    Comparison("company", (Level("exact", 0.8, 0.1), Level("close", 0.1, 0.05), Level("differ", 0.1, 0.85))),
    Comparison("house_number", (Level("exact", 0.85, 0.1), Level("close", 0.05, 0.05), Level("differ", 0.1, 0.85))),
    Comparison(
        "street",
        (Level("exact", 0.6, 0.01), Level("close", 0.15, 0.02), Level("subset", 0.15, 0.02),
         Level("partial", 0.05, 0.1), Level("similar", 0.03, 0.1), Level("differ", 0.02, 0.75)),
    ),
    Comparison("postcode", (Level("exact", 0.85, 0.3), Level("close", 0.1, 0.05), Level("differ", 0.05, 0.65))),
    Comparison("city", (Level("exact", 0.85, 0.3), Level("close", 0.1, 0.05), Level("differ", 0.05, 0.65))),
)


def compare_contacts(a: PreparedContact, b: PreparedContact) -> Pattern:
    first, last, _ = cmp.compare_person_names(a.first, a.last, b.first, b.last)
    return (
        first,
        last,
        cmp.set_level(a.personal_emails, b.personal_emails),
        cmp.set_level(a.phones, b.phones),
        cmp.place_level(a.company, b.company),
        cmp.code_level(a.number, b.number),
        cmp.street_level(a.lines, b.lines),
        cmp.code_level(a.postcode, b.postcode),
        cmp.place_level(a.city, b.city),
    )


_NAME_WORDS = {cmp.NAME_CLOSE: "close", cmp.NAME_PARTIAL: "compatible (initial or part)", cmp.NAME_SIMILAR: "similar",
               cmp.NAME_DIFFER: "different"}


def explain_contacts(
    a: PreparedContact, b: PreparedContact, pattern: Pattern, weights: list[list[float]]
) -> tuple[str, ...]:
    """Human-readable reasons for one pair, strongest evidence first."""
    first, last, swapped = cmp.compare_person_names(a.first, a.last, b.first, b.last)
    evidence: list[tuple[float, str]] = []
    name_weight = weight_of(weights, 0, first) + weight_of(weights, 1, last)
    if swapped:
        evidence.append((name_weight + 0.001, "names match (swapped order)"))
    b_first, b_last = (b.last, b.first) if swapped else (b.first, b.last)
    labels = ("name", "name") if swapped else ("first name", "last name")
    for index, label, x, y in ((0, labels[0], a.first, b_first), (1, labels[1], a.last, b_last)):
        level = pattern[index]
        if level != NULL:
            text = f"same {label} {x}" if level == cmp.NAME_EXACT else f"{label}s {_NAME_WORDS[level]} ({x} / {y})"
            evidence.append((weights[index][level], text))
    if pattern[2] != NULL:
        shared = sorted(a.personal_emails & b.personal_emails)
        text = f"same email {shared[0]}" if shared else "no email in common"
        evidence.append((weights[2][pattern[2]], text))
    if pattern[3] != NULL:
        shared = sorted(a.phones & b.phones)
        evidence.append((weights[3][pattern[3]], f"same phone {shared[0]}" if shared else "no phone in common"))
    simple = (
        (4, "company", a.company, b.company),
        (5, "house number", a.number, b.number),
        (6, "street", ", ".join(a.lines), ", ".join(b.lines)),
        (7, "postcode", a.postcode, b.postcode),
        (8, "city", a.city, b.city),
    )
    for index, label, x, y in simple:
        if pattern[index] != NULL:
            evidence.append(simple_reason(label, pattern[index], weights[index][pattern[index]], x, y))
    return ordered_reasons(evidence)


CONTACT_SCHEMA: Schema[PreparedContact] = Schema(
    comparisons=COMPARISONS,
    block_keys=contact_block_keys,
    sort_keys=(_name_sort_key, _street_sort_key),
    compare=compare_contacts,
    explain=explain_contacts,
    frequency_adjusted=((0, lambda c: c.first), (1, lambda c: c.last)),
)


def find_contact_duplicates(
    records: Sequence[ContactRecord],
    *,
    high: float = 0.95,
    low: float = 0.5,
    exclude: frozenset[tuple[int, int]] = frozenset(),
) -> list[ScoredPair]:
    """Pairs of contacts scoring at least ``low``, best first (then by ids); ``a_id < b_id``.

    A pair scoring at least ``high`` is an auto-merge candidate, one between ``low`` and ``high`` goes to review
    (see ``split_by_threshold``). Pairs in ``exclude`` (remembered "not a duplicate", either order) never appear.
    """
    check_thresholds(high, low)
    check_unique_ids(records, "contact")
    ordered = sorted(records, key=lambda r: r.id)
    prepared = [prepare_contact(r) for r in ordered]
    scored, model = run(CONTACT_SCHEMA, prepared)
    excluded = normalise_exclusions(exclude)
    out = [
        to_scored_pair(CONTACT_SCHEMA, model, prepared[s.i], prepared[s.j], prepared[s.i].id, prepared[s.j].id, s)
        for s in scored
        if s.score >= low and (prepared[s.i].id, prepared[s.j].id) not in excluded
    ]
    return sorted(out, key=lambda p: (-p.score, p.a_id, p.b_id))


def link_contacts(
    left: Sequence[ContactRecord],
    right: Sequence[ContactRecord],
    *,
    low: float = 0.5,
    exclude: frozenset[tuple[int, int]] = frozenset(),
) -> list[ScoredPair]:
    """Record linkage between two lists (e.g. an imported file against the CRM): only left-right pairs.

    In each returned pair ``a_id`` is a left id and ``b_id`` a right id (the two lists may reuse ids).
    ``exclude`` holds (left id, right id) pairs. Best first; see ``one_to_one`` to keep one partner each.
    """
    check_thresholds(low, low)
    check_unique_ids(left, "contact", " (left list)")
    check_unique_ids(right, "contact", " (right list)")
    ordered = sorted(left, key=lambda r: r.id) + sorted(right, key=lambda r: r.id)
    sources = [0] * len(left) + [1] * len(right)
    prepared = [prepare_contact(r) for r in ordered]
    scored, model = run(CONTACT_SCHEMA, prepared, sources=sources)
    out: list[ScoredPair] = []
    for s in scored:
        if s.score < low:
            continue
        i, j = (s.i, s.j) if sources[s.i] == 0 else (s.j, s.i)
        if (prepared[i].id, prepared[j].id) in exclude:
            continue
        out.append(to_scored_pair(CONTACT_SCHEMA, model, prepared[i], prepared[j], prepared[i].id, prepared[j].id,
                                  Scored(i, j, s.score, s.pattern)))
    return sorted(out, key=lambda p: (-p.score, p.a_id, p.b_id))
