"""Text templates of rule actions (task titles, mail bodies, webhook payloads): sandboxed Jinja2, checked at load.

Templates are plain text (no HTML escaping: rule mails are text/plain). They run in Jinja2's
``SandboxedEnvironment`` with ``StrictUndefined``, so a template cannot reach Python internals and a misspelt
name is an error, never a silent blank. Every variable and attribute a template names is checked against
``VARIABLES`` when the config loads; a name that exists but is not available for the rule's trigger (``report``
in an ``on = "email.sent"`` rule) is reported too.

Context variables (see ``VARIABLES`` for every attribute):

======================  =================================================================================
``rule.name``           the rule's name
``now``                 when the action runs (local datetime)
``due_date``            when the rule became due (local datetime; equals ``now`` unless the timer was late)
``contact.*``           the external person: name, first_name, last_name, email, status, phone, title, tags
``company.*``           the contact's company: name, domain, status, tags
``interaction.*``       the triggering email or meeting: subject, date, kind, direction, snippet, from, to,
                        attachments
``sender.*``            the internal person on the interaction (its author for email.sent, the mailbox owner
                        for email.received, the organizer of a meeting): name, email
``manager.*``           the configured manager: name, email
``amount``              the best total read from the mail (an Amount; prints "12 450,00 € HT"), or nothing
``deal.*``              the deal of the thread or contact: name, stage, previous_stage, amount, owner
``period.*``            schedule rules: start, end (local datetimes) and label ("semaine du 30/03/2026")
``report.*``            schedule rules: emails_sent, emails_received, meetings, new_contacts, tasks_open,
                        tasks_overdue, deals_won, summary (a ready-made text block)
======================  =================================================================================

A missing object (a contact without company) renders its attributes as "", so ``{% if company.name %}`` works;
``None`` prints as "". Datetimes print as "13/05/2026 16:40"; filters: ``date`` (``{{ due_date | date }}`` →
"13/05/2026", ``date("long")`` → "mercredi 13 mai 2026", or any strftime format) and ``money``
(``{{ deal.amount | money }}`` → "12 450,00 €").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.sandbox import SandboxedEnvironment

from agent.errors import UserError
from agent.rules.amounts import Amount, format_amount

MAX_RENDERED_CHARS = 100_000

# name → attributes (an empty tuple: a plain value such as a datetime or an Amount).
VARIABLES: dict[str, tuple[str, ...]] = {
    "rule": ("name",),
    "now": (),
    "due_date": (),
    "contact": ("name", "first_name", "last_name", "email", "status", "phone", "title", "tags"),
    "company": ("name", "domain", "status", "tags"),
    "interaction": ("subject", "date", "kind", "direction", "snippet", "from", "to", "attachments"),
    "sender": ("name", "email"),
    "manager": ("name", "email"),
    "amount": (),
    "deal": ("name", "stage", "previous_stage", "amount", "owner"),
    "period": ("start", "end", "label"),
    "report": ("emails_sent", "emails_received", "meetings", "new_contacts", "tasks_open", "tasks_overdue",
               "deals_won", "summary"),
}
_COMMON = ("rule", "now", "due_date", "manager")
_AROUND_INTERACTION = (*_COMMON, "contact", "company", "interaction", "sender", "amount", "deal")
EVENT_VARIABLES: dict[str, frozenset[str]] = {
    "email.sent": frozenset(_AROUND_INTERACTION),
    "email.received": frozenset(_AROUND_INTERACTION),
    "meeting.ended": frozenset(_AROUND_INTERACTION),
    "contact.created": frozenset((*_COMMON, "contact", "company")),
    "deal.changed": frozenset((*_COMMON, "contact", "company", "deal", "amount")),
    "schedule": frozenset((*_COMMON, "period", "report")),
}
# What an object prints as when written alone: {{ contact }} → its name (or address when it has none).
_DISPLAY = {"contact": ("name", "email"), "company": ("name", "domain"), "sender": ("name", "email"),
            "manager": ("name", "email"), "interaction": ("subject",), "deal": ("name",), "rule": ("name",),
            "period": ("label",), "report": ("summary",)}

_FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                  "octobre", "novembre", "décembre")


class TemplateProblems(UserError):
    """One or more template problems, each a line "key.path: what is wrong"; the message joins them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Record:
    """A read-only object in a template context; prints as its display field ({{ contact }} → the name)."""

    def __init__(self, display: tuple[str, ...], values: Mapping[str, object]) -> None:
        self.__dict__.update(values)
        self._display = display

    def __str__(self) -> str:
        for name in self._display:
            value = self.__dict__.get(name)
            if value:
                return str(value)
        return ""

    def __setattr__(self, name: str, value: object) -> None:
        if name != "_display":
            raise AttributeError("template context records are read-only")
        super().__setattr__(name, value)


def _format_date(value: object, fmt: str = "%d/%m/%Y") -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, date):
        return str(value)
    if fmt == "long":
        return f"{_FRENCH_DAYS[value.weekday()]} {value.day} {_FRENCH_MONTHS[value.month - 1]} {value.year}"
    return value.strftime(fmt)


def _format_money(value: object, currency: str = "EUR") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Amount):
        return format_amount(value)
    try:
        return format_amount(Amount(Decimal(str(value)), currency))
    except (InvalidOperation, ValueError):
        return str(value)


def _finalize(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, finalize=_finalize)
_ENV.filters["date"] = _format_date
_ENV.filters["money"] = _format_money


@dataclass(frozen=True)
class Template:
    """A checked template: ``source`` as written, ``key_path`` where (for messages), ``variables`` it reads."""

    source: str
    key_path: str
    variables: frozenset[str]
    compiled: JinjaTemplate = field(compare=False, repr=False)


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _variable_problems(tree: nodes.Template, key_path: str, available: frozenset[str], event: str) -> list[str]:
    problems: list[str] = []
    used = meta.find_undeclared_variables(tree)
    for name in sorted(used):
        if name not in VARIABLES:
            problems.append(f'{key_path}: unknown variable "{name}"{_suggest(name, available)}'
                            f" (available: {', '.join(sorted(available))})")
        elif name not in available:
            where = f' for on = "{event}"' if event else ""
            problems.append(f'{key_path}: "{name}" is not available{where}'
                            f" (available: {', '.join(sorted(available))})")
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            problems.append(f'{key_path}: "{node.attr}": names starting with "_" are not allowed in templates')
            continue
        base = node.node
        if not isinstance(base, nodes.Name) or base.name not in used or not VARIABLES.get(base.name):
            continue
        if isinstance(node, nodes.Getattr):
            attribute = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            attribute = node.arg.value
        else:
            continue
        known = VARIABLES[base.name]
        if attribute not in known:
            dotted = [f"{base.name}.{a}" for a in known]
            problems.append(f'{key_path}: unknown variable "{base.name}.{attribute}"'
                            f"{_suggest(f'{base.name}.{attribute}', dotted)} (known: {', '.join(dotted)})")
    return sorted(set(problems), key=problems.index)


@lru_cache(maxsize=512)
def _parse_and_compile(text: str) -> tuple[nodes.Template, JinjaTemplate]:
    # Compiling costs milliseconds; a config is validated several times (check, load, reload), so cache by text.
    return _ENV.parse(text), _ENV.from_string(text)


def compile_template(text: object, key_path: str, *, event: str = "") -> Template:
    """Check and compile ``text``; raise TemplateProblems (a UserError) listing every problem with ``key_path``.

    ``event`` (a trigger such as "email.sent") restricts the variables to those that trigger provides;
    without it every documented variable is allowed.
    """
    if not isinstance(text, str):
        raise TemplateProblems([f"{key_path}: expected a text template, got {type(text).__name__} {text!r}"])
    available = EVENT_VARIABLES.get(event, frozenset(VARIABLES))
    try:
        tree, compiled = _parse_and_compile(text)
    except TemplateSyntaxError as error:
        raise TemplateProblems([f"{key_path}: template error on line {error.lineno}: {error.message}"]) from None
    problems = _variable_problems(tree, key_path, available, event)
    if problems:
        raise TemplateProblems(problems)
    return Template(text, key_path, frozenset(meta.find_undeclared_variables(tree)), compiled)


def render(template: Template, context: Mapping[str, object], *, single_line: bool = False) -> str:
    """Render with ``context`` (see ``build_context``); UserError naming the key path if rendering fails.

    ``single_line`` folds line breaks into spaces (mail subjects, task titles).
    """
    try:
        text = template.compiled.render(context)
    except Exception as error:  # noqa: BLE001 - anything a config template does wrong is the user's to fix
        raise UserError(f"{template.key_path}: cannot render template: {error}") from None
    if len(text) > MAX_RENDERED_CHARS:
        raise UserError(f"{template.key_path}: rendered text is longer than {MAX_RENDERED_CHARS} characters")
    return " ".join(text.split()) if single_line else text


def _local(value: object, zone: ZoneInfo | None) -> object:
    if zone and isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone)
    return value


def build_context(event: str, values: Mapping[str, object], *, timezone: str | ZoneInfo | None = None) -> dict:
    """A complete render context for ``event`` from what the engine knows.

    ``values`` maps variable names to plain values or to mappings of attributes (``{"contact": {"name": ...}}``).
    Variables of the event left out, and attributes left out, become "" so templates can test them; aware
    datetimes are shown in ``timezone``. An unknown variable or attribute is a programming error (ValueError).
    """
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    allowed = EVENT_VARIABLES.get(event)
    if allowed is None:
        raise ValueError(f"unknown event {event!r}")
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"variables {sorted(unknown)} are not provided for {event}")
    context: dict[str, object] = {}
    for name in allowed:
        attributes = VARIABLES[name]
        given = values.get(name)
        if not attributes:
            context[name] = _local(given, zone)
            continue
        given = dict(given or {})
        extra = set(given) - set(attributes)
        if extra:
            raise ValueError(f"{name} has no attributes {sorted(extra)}")
        filled = {attr: _local(given.get(attr, ""), zone) for attr in attributes}
        context[name] = Record(_DISPLAY.get(name, ()), filled)
    return context


def describe_variables(event: str) -> list[str]:
    """The variables a template of ``event`` may use, dotted ("contact.name"), for help and error messages."""
    names = EVENT_VARIABLES.get(event, frozenset(VARIABLES))
    return [f"{name}.{attr}" if attr else name for name in sorted(names) for attr in (VARIABLES[name] or ("",))]


def sample_context(event: str, *, rule_name: str = "exemple") -> dict:
    """A realistic context for ``event`` (a quote to ACME), for previews, dry runs and ``rules check``."""
    paris = ZoneInfo("Europe/Paris")
    sent = datetime(2026, 5, 7, 16, 40, tzinfo=paris)
    due = datetime(2026, 5, 13, 16, 40, tzinfo=paris)
    amount = Amount(Decimal("12450.00"), "EUR", "HT")
    everything: dict[str, object] = {
        "rule": {"name": rule_name},
        "now": due,
        "due_date": due,
        "contact": {"name": "Claire Martin", "first_name": "Claire", "last_name": "Martin",
                    "email": "claire.martin@acme.fr", "status": "prospect", "phone": "+33 6 12 34 56 78",
                    "title": "Directrice des achats", "tags": ("salon-2026",)},
        "company": {"name": "ACME SAS", "domain": "acme.fr", "status": "prospect", "tags": ()},
        "interaction": {"subject": "Devis n°42 — maintenance annuelle", "date": sent, "kind": "email",
                        "direction": "out", "snippet": "Bonjour Claire, veuillez trouver ci-joint notre devis…",
                        "from": "Paul Durand <paul@example.fr>", "to": "Claire Martin <claire.martin@acme.fr>",
                        "attachments": ("Devis_42.pdf",)},
        "sender": {"name": "Paul Durand", "email": "paul@example.fr"},
        "manager": {"name": "Sophie Bernard", "email": "sophie@example.fr"},
        "amount": amount,
        "deal": {"name": "ACME — maintenance annuelle", "stage": "proposal", "previous_stage": "qualified",
                 "amount": amount.value, "owner": "paul@example.fr"},
        "period": {"start": datetime(2026, 5, 4, tzinfo=paris), "end": datetime(2026, 5, 11, tzinfo=paris),
                   "label": "semaine du 04/05/2026"},
        "report": {"emails_sent": 42, "emails_received": 57, "meetings": 6, "new_contacts": 4, "tasks_open": 9,
                   "tasks_overdue": 2, "deals_won": 1,
                   "summary": "42 mails envoyés, 57 reçus, 6 réunions, 4 nouveaux contacts."},
    }
    allowed = EVENT_VARIABLES.get(event, frozenset(VARIABLES))
    return build_context(event, {k: v for k, v in everything.items() if k in allowed}, timezone=paris)
