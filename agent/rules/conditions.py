"""The `when` part of a rule: its conditions, the facts they are tested on, and a verdict with its reasons.

Semantics (the reference for the `[rules.when]` table):

- Every key present must hold (AND). ``any = [{...}, {...}]`` holds when at least one of its tables holds
  (each table is itself a `when`, ANDed inside): ``any = [{ subject = "devis" }, { attachment = "devis.*pdf" }]``.
- ``subject``, ``body``, ``attachment``, ``company``, ``contact`` are regular expressions (Python ``re``),
  searched anywhere (``re.search``); write ``(?i)`` for case-insensitive. ``body`` reads the stored body, or the
  snippet when only that is kept. ``attachment`` holds when any attachment name matches.
- Participant keys look at the **external** participants only (internal colleagues never match):
  ``company`` (company name), ``contact`` (contact name or address), ``domain`` (address domain or a
  subdomain of it), ``status`` (contact status, one of a list), ``tags`` (contact or company tag, one of a list).
  One participant satisfying the key is enough.
- ``amount_gt``, ``amount_gte``, ``amount_lt``, ``amount_lte`` compare the interaction's amount (the best total
  of the mail, or the deal's amount); no amount found means the condition fails.
- ``stage`` (deal.changed): the deal's new stage is one of the list.
- Whatever the conditions, a rule never fires on an auto-reply, a bounce, or a mail a rule itself sent
  (this is what keeps a rule from answering its own mail forever).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from agent.rules.amounts import Amount
from agent.rules.reader import ConfigTable

PATTERN_KEYS = ("subject", "body", "attachment", "company", "contact")
LIST_KEYS = ("domain", "status", "tags", "stage")
AMOUNT_KEYS = {"amount_gt": ">", "amount_gte": ">=", "amount_lt": "<", "amount_lte": "<="}
_PARTICIPANT_KEYS = ("company", "contact", "domain", "status", "tags")
# Which `when` keys make sense for which trigger.
WHEN_KEYS: dict[str, frozenset[str]] = {
    "email.sent": frozenset(("subject", "body", "attachment", *_PARTICIPANT_KEYS, *AMOUNT_KEYS, "any")),
    "email.received": frozenset(("subject", "body", "attachment", *_PARTICIPANT_KEYS, *AMOUNT_KEYS, "any")),
    "meeting.ended": frozenset(("subject", "body", *_PARTICIPANT_KEYS, "any")),
    "contact.created": frozenset((*_PARTICIPANT_KEYS, "any")),
    "deal.changed": frozenset(("stage", *_PARTICIPANT_KEYS, *AMOUNT_KEYS, "any")),
    "schedule": frozenset(),
}
_COMPARE = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
MAX_TEXT_CHARS = 100_000  # patterns read at most this much of a body


@dataclass(frozen=True, slots=True)
class AmountBound:
    """One amount comparison: ``amount_gt = 10000`` is ``AmountBound(">", Decimal(10000))``."""

    operator: str
    limit: Decimal


@dataclass(frozen=True, slots=True)
class Conditions:
    """A parsed `when` table; empty Conditions() hold for everything (except the auto-reply/own-mail guard)."""

    subject: re.Pattern[str] | None = None
    body: re.Pattern[str] | None = None
    attachment: re.Pattern[str] | None = None
    company: re.Pattern[str] | None = None
    contact: re.Pattern[str] | None = None
    domain: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    stage: tuple[str, ...] = ()
    amount: tuple[AmountBound, ...] = ()
    any: tuple[Conditions, ...] = ()


@dataclass(frozen=True, slots=True)
class ParticipantFacts:
    """What the rules see of one participant: ``tags`` are the contact's and its company's together."""

    address: str
    name: str = ""
    company: str = ""
    status: str = ""
    tags: tuple[str, ...] = ()
    is_internal: bool = False
    role: str = ""


@dataclass(frozen=True, slots=True)
class InteractionFacts:
    """Everything conditions can test about one event; built by the engine, plain data only.

    ``kind``: "email", "meeting", "contact" or "deal"; ``direction``: "in", "out", "internal" or "".
    ``amount``: the best total of the mail (``amounts.best_total``) or the deal's amount.
    """

    kind: str = "email"
    direction: str = ""
    subject: str = ""
    body: str = ""
    snippet: str = ""
    attachments: tuple[str, ...] = ()
    participants: tuple[ParticipantFacts, ...] = ()
    amount: Amount | None = None
    deal_stage: str = ""
    is_auto_reply: bool = False
    is_bounce: bool = False
    is_own_rule_mail: bool = False

    @property
    def external(self) -> tuple[ParticipantFacts, ...]:
        return tuple(p for p in self.participants if not p.is_internal)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The verdict and why: one reason per condition checked, passing or failing, in a fixed order."""

    matched: bool
    reasons: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.matched


def _excerpt(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _check_pattern(name: str, pattern: re.Pattern[str], values: list[tuple[str, str]], *,
                   one_of_many: bool = False) -> tuple[bool, str]:
    """``values`` are (label, text) pairs; the first whose text matches wins. ``one_of_many``: the values
    are a collection (attachments, participants), worded "no attachment matched" when none does."""
    for label, text in values:
        found = pattern.search(text[:MAX_TEXT_CHARS])
        if found:
            shown = f' ("{_excerpt(found.group(0))}")' if label in (name, "snippet") else ""
            return True, f"{label} matched {pattern.pattern}{shown}"
    if not values:
        return False, f"no {name} to match {pattern.pattern}"
    if one_of_many:
        return False, f"no {name} matched {pattern.pattern}"
    return False, f"{name} did not match {pattern.pattern}"


def _in_domain(address: str, domains: tuple[str, ...]) -> str | None:
    host = address.rpartition("@")[2].lower()
    return next((d for d in domains if host == d or host.endswith("." + d)), None)


def _number(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check(conditions: Conditions, facts: InteractionFacts) -> tuple[bool, list[str]]:
    checks: list[tuple[bool, str]] = []
    people = facts.external
    if conditions.subject:
        checks.append(_check_pattern("subject", conditions.subject, [("subject", facts.subject)]))
    if conditions.body:
        label, text = ("body", facts.body) if facts.body else ("snippet", facts.snippet)
        checks.append(_check_pattern("body", conditions.body, [(label, text)] if text else []))
    if conditions.attachment:
        checks.append(_check_pattern("attachment", conditions.attachment,
                                     [(f"attachment {name}", name) for name in facts.attachments], one_of_many=True))
    if conditions.company:
        checks.append(_check_pattern("company", conditions.company,
                                     [(f"company {p.company}", p.company) for p in people if p.company],
                                     one_of_many=True))
    if conditions.contact:
        checks.append(_check_pattern("contact", conditions.contact,
                                     [(f"contact {p.name or p.address}", f"{p.name} <{p.address}>") for p in people],
                                     one_of_many=True))
    if conditions.domain:
        hit = next(((p, d) for p in people if (d := _in_domain(p.address, conditions.domain))), None)
        checks.append((True, f"address {hit[0].address} is in domain {hit[1]}") if hit else
                      (False, f"no participant address in {', '.join(conditions.domain)}"))
    if conditions.status:
        hit = next((p for p in people if p.status.casefold() in conditions.status), None)
        checks.append((True, f"contact {hit.address} has status {hit.status}") if hit else
                      (False, f"no participant has status {' or '.join(conditions.status)}"))
    if conditions.tags:
        hit = next(((p, t) for p in people for t in p.tags if t.casefold() in conditions.tags), None)
        checks.append((True, f"contact {hit[0].address} has tag {hit[1]}") if hit else
                      (False, f"no participant has tag {' or '.join(conditions.tags)}"))
    if conditions.stage:
        ok = facts.deal_stage.casefold() in conditions.stage
        verb = "is" if ok else "is not"
        checks.append((ok, f"deal stage {facts.deal_stage or '(none)'} {verb} one of {', '.join(conditions.stage)}"))
    for bound in conditions.amount:
        if facts.amount is None:
            checks.append((False, f"no amount found (needs amount {bound.operator} {_number(bound.limit)})"))
            continue
        ok = _COMPARE[bound.operator](facts.amount.value, bound.limit)
        value, limit = _number(facts.amount.value), _number(bound.limit)
        checks.append((ok, f"amount {value} {bound.operator} {limit}" if ok else
                       f"amount {value} is not {bound.operator} {limit}"))
    verdict = all(ok for ok, _ in checks)
    reasons = [reason for _, reason in checks]
    if conditions.any:
        outcomes = [_check(alternative, facts) for alternative in conditions.any]
        for index, (_, alternative_reasons) in enumerate(outcomes):
            reasons.extend(f"any[{index}]: {reason}" for reason in alternative_reasons)
        winner = next((index for index, (ok, _) in enumerate(outcomes) if ok), None)
        reasons.append("any: no alternative matched" if winner is None else f"any: alternative {winner} matched")
        verdict = verdict and winner is not None
    return verdict, reasons


def matches(spec: Conditions, facts: InteractionFacts) -> MatchResult:
    """Test ``facts`` against ``spec``; every condition is evaluated so the reasons explain the whole verdict."""
    if facts.is_own_rule_mail:
        return MatchResult(False, ("sent by a rule: rules never fire on their own mail",))
    if facts.is_auto_reply:
        return MatchResult(False, ("auto-reply: rules never fire on auto-replies",))
    if facts.is_bounce:
        return MatchResult(False, ("bounce: rules never fire on delivery failures",))
    ok, reasons = _check(spec, facts)
    return MatchResult(ok, tuple(reasons) or ("no conditions",))


def counts_as_reply(facts: InteractionFacts) -> bool:
    """Whether an interaction in a thread cancels `unless = ["reply"]` timers: an inbound mail from a person,
    not an auto-reply, a bounce, nor a mail our own rules sent."""
    return (
        facts.kind == "email"
        and facts.direction == "in"
        and not (facts.is_auto_reply or facts.is_bounce or facts.is_own_rule_mail)
    )


def parse_conditions(table: ConfigTable, *, event: str, depth: int = 0) -> Conditions:
    """Read a `when` table; ``table`` already knows which keys ``event`` allows (``WHEN_KEYS``)."""
    patterns = {key: table.regex(key) for key in PATTERN_KEYS}
    choices = {"status": table.statuses, "stage": table.stages}
    lists = {key: tuple(v.casefold() for v in table.text_list(key, choices=choices.get(key, ()))) for key in LIST_KEYS}
    lists["domain"] = tuple(d.lstrip("@").rstrip(".") for d in lists["domain"])
    bounds = []
    for key, operator in AMOUNT_KEYS.items():
        limit = table.number(key)
        if limit is not None:
            bounds.append(AmountBound(operator, limit))
    alternatives: list[Conditions] = []
    for key, raw in table.table_list("any"):
        if depth >= 2:
            table.problem("any", "nested deeper than 3 levels")
            break
        child = table.child(key, raw, table.known, elsewhere=table.elsewhere, elsewhere_note=table.elsewhere_note)
        if child is not None:
            alternatives.append(parse_conditions(child, event=event, depth=depth + 1))
    if "any" in table.raw and not table.raw["any"]:
        table.problem("any", "is empty (give at least one table of conditions)")
    return Conditions(**patterns, **lists, amount=tuple(bounds), any=tuple(alternatives))
