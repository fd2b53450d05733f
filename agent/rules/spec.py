"""Rule definitions: the `[[rules]]` tables of the config, validated whole into frozen `RuleSpec` values.

A rule, in TOML (tests/rules/example_rules.toml has five complete ones)::

    [[rules]]
    name = "relance-devis"                  # unique; names the rule in timers, logs and `explain`
    description = "..."                     # optional
    enabled = true                          # optional; a disabled rule is still validated
    on = "email.sent"                       # email.sent | email.received | meeting.ended | contact.created |
                                            # deal.changed | schedule (then: cron = "0 8 * * MON", local time)
    after = "3 business days"               # optional delay (schedule.py: units and exact semantics)
    unless = ["reply", "deal_closed"]       # cancel conditions, see CancelCondition
    once_per = "thread"                     # thread | contact | deal | event | period (see ONCE_PER_DEFAULT)
    [rules.when]                            # conditions (conditions.py: keys and semantics)
    any = [{ subject = '(?i)\\bdevis\\b' }, { attachment = '(?i)devis.*\\.pdf' }]
    [[rules.do]]                            # actions, run in order
    type = "task"                           # task | email | webhook | set_status | tag | deal
    title = "Relancer {{ contact.name }}"   # templates: templates.py lists the variables

Validation reports every problem at once, one line each, starting with its key path:
``rules[2].after: "3 semaines ouvrées" is not a delay (try ...)``. ``validate_rules`` returns those lines (the
config loader merges them with its own); ``parse_rules`` raises them as ``RuleProblems``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from agent.errors import UserError
from agent.rules.actions import (  # noqa: F401 - re-exported: the whole rule vocabulary is one import away
    SENDER_EVENTS,
    SIGNATURE_HEADER,
    Action,
    DealAction,
    EmailAction,
    PayloadTable,
    Recipient,
    SetStatusAction,
    TagAction,
    TaskAction,
    WebhookAction,
    parse_action,
    sign_webhook,
)
from agent.rules.conditions import WHEN_KEYS, Conditions, parse_conditions
from agent.rules.cron import cron_problem, next_fire
from agent.rules.reader import DEFAULT_CONTACT_STATUSES, DEFAULT_DEAL_STAGES, ConfigTable, kind_of
from agent.rules.schedule import BusinessCalendar, Delay, resolve_zone

EVENTS = ("email.sent", "email.received", "meeting.ended", "contact.created", "deal.changed", "schedule")
EMAIL_EVENTS = ("email.sent", "email.received")
CLOSED_DEAL_STAGES = ("won", "lost")
ONCE_PER_DEFAULT = {"email.sent": "thread", "email.received": "thread", "meeting.ended": "event",
                    "contact.created": "contact", "deal.changed": "deal", "schedule": "period"}
ONCE_PER_EVENTS = {"thread": EMAIL_EVENTS, "contact": EVENTS[:-1], "deal": ("deal.changed",), "event": EVENTS[:-1],
                   "period": ("schedule",)}
RULE_KEYS = ("name", "description", "enabled", "on", "cron", "when", "after", "unless", "once_per", "do")
# Words people reach for instead of ours, for did-you-mean.
KEY_SYNONYMS = {"trigger": "on", "event": "on", "delay": "after", "wait": "after", "actions": "do",
                "action": "do", "then": "do", "conditions": "when", "if": "when", "cancel": "unless",
                "except": "unless", "once": "once_per", "title": "name", "schedule": "cron"}


@dataclass(frozen=True, slots=True)
class Trigger:
    """What starts a rule: an ``event`` of EVENTS; for "schedule", a ``cron`` read in ``timezone``."""

    event: str
    cron: str | None = None
    timezone: str = "Europe/Paris"

    def next_fire(self, after: datetime) -> datetime:
        """Schedule rules: the first fire time strictly after ``after`` (aware UTC)."""
        if self.cron is None:
            raise ValueError(f"{self.event} rules have no schedule")
        return next_fire(self.cron, after, self.timezone)


@dataclass(frozen=True, slots=True)
class CancelCondition:
    """What cancels a pending timer before it fires (``unless``), each judged after the triggering event:

    - ``reply``: an inbound mail in the same thread, seen in any synced mailbox; auto-replies, bounces and mails
      our own rules sent do not count (``conditions.counts_as_reply``). Email triggers only.
    - ``inbound_from_contact``: any inbound mail from the contact, in any thread.
    - ``meeting_booked``: a meeting with the contact is created, whenever it takes place.
    - ``deal_closed``: the deal of the thread (or else of the contact) reaches a CLOSED_DEAL_STAGES stage.
    """

    kind: str
    KINDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "reply": EMAIL_EVENTS, "inbound_from_contact": EVENTS[:-1], "meeting_booked": EVENTS[:-1],
        "deal_closed": EVENTS[:-1]}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One validated rule; ``index`` is its position in ``[[rules]]`` (for key paths in messages)."""

    name: str
    trigger: Trigger
    conditions: Conditions
    delay: Delay | None
    unless: tuple[CancelCondition, ...]
    actions: tuple[Action, ...]
    once_per: str
    enabled: bool = True
    description: str = ""
    index: int = 0

    @property
    def key_path(self) -> str:
        return f"rules[{self.index}]"

    def due_at(self, event_time: datetime, calendar: BusinessCalendar) -> datetime:
        """When a timer armed by an event at ``event_time`` fires (``event_time`` itself without delay)."""
        return calendar.add(event_time, self.delay) if self.delay else event_time.astimezone(UTC)

    def dedupe_key(self, scope_value: str) -> str:
        """The timer's unique key: at most one timer per (rule, ``once_per`` scope value), ever.

        ``scope_value`` is, according to ``once_per``: the thread key ("thread"), the contact's id ("contact":
        a welcome mail goes once per contact, ever), the deal's id ("deal"), the triggering interaction's
        identity key or event id ("event": every event arms its own timer), the period key ("period",
        ``cron.period_key``).
        """
        if not scope_value:
            raise ValueError(f"rule {self.name!r}: empty {self.once_per} for the dedupe key")
        return json.dumps([self.name, self.once_per, scope_value], ensure_ascii=False)


class RuleProblems(UserError):
    """Every problem of the ``[[rules]]`` tables, one line each with its key path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------------------------- rules


def _name(table: ConfigTable) -> str | None:
    name = table.text("name", required=True)
    if name is not None and (len(name) > 80 or any(ord(ch) < 32 for ch in name)):
        table.problem("name", "must be one line of at most 80 characters")
        return None
    return name.strip() if name else None


def _trigger(table: ConfigTable, timezone: str) -> Trigger | None:
    event = table.text("on", required=True, choices=EVENTS)
    if event != "schedule":
        if "cron" in table.raw and event:
            table.problem("cron", f'only for on = "schedule" (this rule has on = "{event}")')
        return Trigger(event, None, timezone) if event else None
    cron = table.raw.get("cron")
    problem = 'missing (e.g. cron = "0 8 * * MON")' if cron is None else cron_problem(cron)
    if problem:
        table.problem("cron", problem)
        return None
    return Trigger(event, str(cron).strip(), timezone)


def _conditions(table: ConfigTable) -> Conditions:
    raw = table.raw.get("when")
    if raw is None:
        return Conditions()
    if table.event == "schedule":
        table.problem("when", 'schedule rules have no conditions (they fire on their cron)')
        return Conditions()
    every_key = frozenset().union(*WHEN_KEYS.values())
    known = WHEN_KEYS.get(table.event, every_key)
    when = table.child("when", raw, known, elsewhere=every_key - known,
                       elsewhere_note=f'not available for on = "{table.event}"')
    return parse_conditions(when, event=table.event) if when else Conditions()


def _unless(table: ConfigTable, has_delay: bool) -> tuple[CancelCondition, ...]:
    kinds = table.text_list("unless", choices=CancelCondition.KINDS)
    for kind in kinds:
        if table.event and table.event not in CancelCondition.KINDS[kind]:
            table.problem("unless", f'"{kind}" cannot happen for on = "{table.event}"')
    if kinds and not has_delay and "after" not in table.raw:
        table.problem("unless", 'has no effect without "after" (the rule acts at once)')
    return tuple(CancelCondition(kind) for kind in dict.fromkeys(kinds))


def _once_per(table: ConfigTable) -> str:
    value = table.text("once_per", choices=ONCE_PER_EVENTS)
    if value and table.event and table.event not in ONCE_PER_EVENTS[value]:
        allowed = [scope for scope, events in ONCE_PER_EVENTS.items() if table.event in events]
        table.problem("once_per", f'"{value}" does not apply to on = "{table.event}" (use {" or ".join(allowed)})')
    return value or ONCE_PER_DEFAULT.get(table.event, "event")


def _rule(raw: object, index: int, problems: list[str], seen: dict[str, int], *, timezone: str,
          statuses: tuple[str, ...], stages: tuple[str, ...]) -> RuleSpec | None:
    path = f"rules[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{path}: expected a table ([[rules]]), got {kind_of(raw)}")
        return None
    before = len(problems)
    table = ConfigTable(raw, path, problems, RULE_KEYS, statuses, stages, synonyms=KEY_SYNONYMS)
    name = _name(table)
    if name is not None:
        if name.casefold() in seen:
            table.problem("name", f'"{name}" is already the name of rules[{seen[name.casefold()]}]')
        seen.setdefault(name.casefold(), index)
    trigger = _trigger(table, timezone)
    # Check the rest against the trigger when `on` is valid (even if its cron is not), else against all of them.
    table.event = raw["on"] if raw.get("on") in EVENTS else ""
    conditions = _conditions(table)
    delay = table.delay("after")
    if "after" in raw and table.event == "schedule":
        table.problem("after", "schedule rules fire on their cron; leave the delay out")
    unless = _unless(table, delay is not None)
    once_per = _once_per(table)
    if isinstance(raw.get("do"), list) and not raw["do"]:
        table.problem("do", "is empty (give at least one action)")
    actions = [parse_action(table, key, item) for key, item in table.table_list("do", required=True)]
    description = table.get("description", str, "text") or ""
    enabled = table.boolean("enabled", True)
    if len(problems) > before or name is None or trigger is None:
        return None
    return RuleSpec(name, trigger, conditions, delay, unless, tuple(a for a in actions if a), once_per, enabled,
                    str(description), index)


def _parse(raw: object, timezone: str, country: str, subdiv: str | None, statuses: Iterable[str],
           stages: Iterable[str]) -> tuple[tuple[RuleSpec, ...], list[str]]:
    problems: list[str] = []
    try:
        resolve_zone(timezone)
    except UserError as error:
        problems.append(f"timezone: {error.message}")
        timezone = "UTC"
    try:
        BusinessCalendar(country, subdiv, timezone)
    except UserError as error:
        problems.append(f"country: {error.message}")
    if raw is None:
        return (), problems
    if not isinstance(raw, list):
        problems.append(f"rules: expected an array of tables ([[rules]]), got {kind_of(raw)}")
        return (), problems
    seen: dict[str, int] = {}
    found = [_rule(item, index, problems, seen, timezone=timezone, statuses=tuple(statuses), stages=tuple(stages))
             for index, item in enumerate(raw)]
    return tuple(rule for rule in found if rule), problems


def validate_rules(raw: object, *, timezone: str = "Europe/Paris", country: str = "FR", subdiv: str | None = None,
                   statuses: Iterable[str] = DEFAULT_CONTACT_STATUSES,
                   stages: Iterable[str] = DEFAULT_DEAL_STAGES) -> list[str]:
    """Every problem of the ``rules`` config value (the list of ``[[rules]]`` tables), one line each, in
    config order, each starting with its key path; [] when the rules are valid."""
    return _parse(raw, timezone, country, subdiv, statuses, stages)[1]


def parse_rules(raw: object, *, timezone: str, country: str, subdiv: str | None = None,
                statuses: Iterable[str] = DEFAULT_CONTACT_STATUSES,
                stages: Iterable[str] = DEFAULT_DEAL_STAGES) -> tuple[RuleSpec, ...]:
    """The validated rules, in config order; raises RuleProblems (a UserError) listing every problem.

    ``timezone`` reads cron expressions; ``country``/``subdiv`` are checked here so a bad holiday calendar is
    reported with the rules (the engine builds its ``BusinessCalendar`` from the same settings);
    ``statuses``/``stages`` are the contact statuses and deal stages rules may name.
    """
    rules, problems = _parse(raw, timezone, country, subdiv, statuses, stages)
    if problems:
        raise RuleProblems(problems)
    return rules
