"""The rule engine's decisions on plain data: which rules an event arms, when they are due, and what cancels them.

No database here: the pipeline hook, the scheduler tick and ``rules simulate`` all build the same ``Event`` values
and ask the same ``RuleEngine``, so what simulate says is what the live engine does.

- An *event* is what happened: an email sent or received, a meeting that ended, a contact created, a deal changed,
  a schedule's fire time. ``RuleEngine.decide(event)`` tests every enabled rule listening to it and returns one
  ``Decision`` each, with the conditions' reasons; a matching rule gets an ``Arming``: its dedupe key (``once_per``
  scope), its due time (business days in the configured country and zone) and the payload firing will need.
- A *cancel candidate* is something that happened after the event and may cancel a timer (`unless`): a reply in the
  thread, an inbound mail from the contact, a meeting with the contact, a closed deal. ``first_cancel`` picks the
  first one that applies, in time order, and words why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent.rules.conditions import InteractionFacts, MatchResult, matches
from agent.rules.schedule import BusinessCalendar
from agent.rules.spec import RuleSpec

#: Message-IDs of the mails our rules send start with this, so a copy synced back is recognised as our own.
RULE_MESSAGE_ID_PREFIX = "crm-agent-rule."
#: The header every mail our rules send carries (the rule's name); mail carrying it never counts as a reply.
RULE_HEADER = "X-CRM-Agent-Rule"


@dataclass(frozen=True)
class EngineOptions:
    """How the engine runs (``[rules_engine]`` in the config when the settings offer it; these are the defaults).

    ``grace``: a timer more than this late when it is claimed (the agent was down, or the event is old history
    found by a backfill) is marked *missed*, not fired blindly. ``lease``: how long a claimed timer or outbox row is
    reserved for the worker that claimed it; after that (the worker died) another takes it over.
    """

    manager_address: str = ""
    manager_name: str = ""
    grace: timedelta = timedelta(days=7)
    lease: timedelta = timedelta(minutes=5)
    claim_limit: int = 200
    outbox_max_attempts: int = 8
    outbox_backoff: timedelta = timedelta(minutes=1)
    outbox_backoff_cap: timedelta = timedelta(hours=1)
    webhook_timeout: float = 10.0
    smtp_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Any) -> EngineOptions:
        """Options from ``settings.rules_engine`` (a model or a dict) when the settings have it, else defaults."""
        section = getattr(settings, "rules_engine", None)
        if section is None:
            return cls()
        values = section.model_dump() if hasattr(section, "model_dump") else dict(section)
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__ and v is not None}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class Person:
    """An address on an event, with its CRM links when matched."""

    address: str
    name: str = ""
    contact_id: int | None = None
    company_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "name": self.name, "contact_id": self.contact_id,
                "company_id": self.company_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Person | None:
        if not data:
            return None
        return cls(data["address"], data.get("name", ""), data.get("contact_id"), data.get("company_id"))


@dataclass(frozen=True)
class Event:
    """Something rules react to. ``key`` identifies the event itself (an identity key, ``contact:12``...)."""

    name: str  # one of spec.EVENTS
    key: str
    at: datetime
    facts: InteractionFacts = field(default_factory=InteractionFacts)
    interaction_id: int | None = None
    thread_key: str | None = None
    message_id: str | None = None
    contact: Person | None = None
    sender: Person | None = None
    deal_id: int | None = None
    period_key: str = ""
    payload: dict[str, Any] = field(default_factory=dict)  # extra facts firing needs (amount, subject...)


@dataclass(frozen=True)
class Arming:
    """A timer to write: unique ``dedupe_key``, ``due_at`` (aware UTC), and what firing needs in ``payload``."""

    rule: RuleSpec
    event: Event
    dedupe_key: str
    due_at: datetime
    reasons: tuple[str, ...]

    def row(self, now: datetime) -> dict[str, Any]:
        """The timer row (see agent.store.models_rules.Timer)."""
        event = self.event
        payload = {**event.payload, "reasons": list(self.reasons), "event_key": event.key}
        if event.contact:
            payload["contact"] = event.contact.as_dict()
        if event.sender:
            payload["sender"] = event.sender.as_dict()
        return {
            "dedupe_key": self.dedupe_key, "rule": self.rule.name, "event": event.name, "status": "pending",
            "due_at": self.due_at, "event_at": event.at, "armed_at": now, "interaction_id": event.interaction_id,
            "thread_key": event.thread_key, "contact_id": event.contact.contact_id if event.contact else None,
            "deal_id": event.deal_id, "payload": payload, "outcome": "", "attempts": 0, "closed_at": None,
            "cancelled_by_id": None,
        }


@dataclass(frozen=True)
class Decision:
    """What one rule made of one event: ``arming`` when it matched, else None with the failing reasons."""

    rule: RuleSpec
    result: MatchResult
    arming: Arming | None = None
    note: str = ""  # why a matching rule still arms nothing (no thread, no contact...)


@dataclass(frozen=True, slots=True)
class CancelCandidate:
    """Something after the event that may cancel a timer: ``kind`` is a CancelCondition kind."""

    kind: str  # reply | inbound_from_contact | meeting_booked | deal_closed
    at: datetime
    interaction_id: int | None
    text: str  # "reply from claire@acme.fr on 13/05 10:02"


class RuleEngine:
    """The configured rules and the calendar their delays are counted in."""

    def __init__(self, rules: Sequence[RuleSpec], calendar: BusinessCalendar,
                 options: EngineOptions | None = None) -> None:
        self.rules = tuple(rules)
        self.calendar = calendar
        self.options = options or EngineOptions()
        self.by_name = {rule.name: rule for rule in self.rules}

    def listening(self, event_name: str) -> list[RuleSpec]:
        return [rule for rule in self.rules if rule.enabled and rule.trigger.event == event_name]

    def cancelled_by(self, kind: str) -> list[str]:
        """Names of the (enabled) rules a ``kind`` cancel condition applies to."""
        return [rule.name for rule in self.rules if rule.enabled and any(c.kind == kind for c in rule.unless)]

    @property
    def enabled_names(self) -> list[str]:
        return [rule.name for rule in self.rules if rule.enabled]

    def decide(self, event: Event, rules: Iterable[RuleSpec] | None = None) -> list[Decision]:
        """One Decision per enabled rule listening to ``event.name`` (or per rule of ``rules``)."""
        chosen = self.listening(event.name) if rules is None else list(rules)
        return [self._decide(rule, event) for rule in chosen]

    def _decide(self, rule: RuleSpec, event: Event) -> Decision:
        result = matches(rule.conditions, event.facts) if event.name != "schedule" else MatchResult(True, ("schedule",))
        if not result:
            return Decision(rule, result)
        scope = scope_value(rule.once_per, event)
        if not scope:
            return Decision(rule, result, note=f"nothing to arm: the event has no {rule.once_per} (once_per)")
        due = rule.due_at(event.at, self.calendar)
        reasons = list(result.reasons)
        if rule.delay:
            reasons.extend(self.calendar.explain_add(event.at, rule.delay))
        return Decision(rule, result, Arming(rule, event, rule.dedupe_key(scope), due, tuple(reasons)))


def scope_value(once_per: str, event: Event) -> str:
    """The value ``once_per`` dedupes on for this event ("" when the event has none)."""
    if once_per == "thread":
        return event.thread_key or ""
    if once_per == "contact":
        if event.contact is None:
            return ""
        return str(event.contact.contact_id) if event.contact.contact_id else f"address:{event.contact.address}"
    if once_per == "deal":
        return str(event.deal_id) if event.deal_id else ""
    if once_per == "period":
        return event.period_key
    return event.key


def first_cancel(rule: RuleSpec, event_at: datetime, candidates: Iterable[CancelCandidate], *,
                 until: datetime | None = None) -> CancelCandidate | None:
    """The earliest candidate after ``event_at`` (and not after ``until``) of a kind the rule's `unless` names."""
    kinds = {condition.kind for condition in rule.unless}
    eligible = [c for c in candidates if c.kind in kinds and c.at > event_at and (until is None or c.at <= until)]
    return min(eligible, key=lambda c: (c.at, c.kind), default=None)


def lateness_verdict(due_at: datetime, now: datetime, grace: timedelta) -> str | None:
    """Why a timer is too late to fire (missed), or None when it may fire."""
    if now - due_at <= grace:
        return None
    late = now - due_at
    days = late.days
    amount = f"{days} days" if days >= 1 else f"{int(late.total_seconds() // 3600)} hours"
    return (f"due {due_at:%Y-%m-%d %H:%M} UTC, {amount} ago: more than the grace of {_duration(grace)}, "
            "so it is marked missed instead of firing late")


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} seconds"
