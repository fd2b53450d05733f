"""Reading one TOML table of a rule: typed getters that record "key.path: problem" lines instead of raising.

The rule parsers (spec.py, conditions.py, actions.py) read every key through a ``ConfigTable`` so that one pass
over the config finds every problem, each named by its full key path (``rules[2].do[0].to[1]``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from agent.errors import UserError
from agent.rules.schedule import Delay, parse_delay
from agent.rules.templates import Template, TemplateProblems, compile_template

DEFAULT_CONTACT_STATUSES = ("lead", "prospect", "client", "former_client", "partner", "supplier", "lost")
DEFAULT_DEAL_STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")


def kind_of(value: object) -> str:
    """The TOML name of a value's type, for "expected X, got Y" messages."""
    names = {bool: "boolean", int: "integer", float: "number", str: "text", dict: "table", list: "array"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), type(value).__name__)


def suggest(word: str, choices: Iterable[str], synonyms: Mapping[str, str] | None = None) -> str:
    """' (did you mean "x"?)' for the closest choice (or a known synonym), else ""."""
    if synonyms and word.lower() in synonyms:
        return f' (did you mean "{synonyms[word.lower()]}"?)'
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


@dataclass
class ConfigTable:
    """One table at ``path``; problems go to the shared ``problems`` list.

    ``known``: the keys allowed here. ``elsewhere``: keys that exist in other contexts only (reported with
    ``elsewhere_note``). Any other key is reported as unknown, with a did-you-mean. ``event`` is the rule's
    trigger ("" when unknown): templates and recipients are checked against it. ``statuses`` and ``stages``
    are the contact statuses and deal stages rules may name.
    """

    raw: Mapping[str, object]
    path: str
    problems: list[str]
    known: tuple[str, ...] | frozenset[str]
    statuses: tuple[str, ...] = DEFAULT_CONTACT_STATUSES
    stages: tuple[str, ...] = DEFAULT_DEAL_STAGES
    event: str = ""
    elsewhere: frozenset[str] = frozenset()
    elsewhere_note: str = ""
    synonyms: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in self.raw:
            if key in self.known:
                continue
            if key in self.elsewhere:
                self.problem(key, self.elsewhere_note)
            else:
                self.problem(key, "unknown key" + suggest(key, sorted(self.known), self.synonyms))

    def at(self, key: str) -> str:
        """The full key path of ``key`` ("" is the table itself)."""
        return f"{self.path}.{key}" if key else self.path

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.at(key)}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], expected: str, *, required: bool = False) -> object:
        """The raw value when present, known and of ``kind``; None otherwise (a problem recorded if wrong)."""
        if key not in self.raw:
            if required:
                self.problem(key, f"missing (expected {expected})")
            return None
        if key not in self.known:
            return None
        value = self.raw[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            self.problem(key, f"expected {expected}, got {kind_of(value)} {json.dumps(value, default=str)}")
            return None
        return value

    def _checked_text(self, where: str, value: str, choices: tuple[str, ...]) -> str | None:
        if not value.strip():
            self.problem(where, "is empty")
            return None
        if choices and value not in choices:
            self.problem(where, f'"{value}" is not one of {", ".join(choices)}{suggest(value, choices)}')
            return None
        return value

    def text(self, key: str, *, required: bool = False, choices: Iterable[str] = ()) -> str | None:
        value = self.get(key, str, "text", required=required)
        return None if value is None else self._checked_text(key, value, tuple(choices))  # type: ignore[arg-type]

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, bool, "true or false")
        return default if value is None else bool(value)

    def text_list(self, key: str, *, choices: Iterable[str] = ()) -> tuple[str, ...]:
        """A text or an array of texts, as a tuple; each bad item reported as ``key[i]``."""
        value = self.get(key, (str, list), "text or an array of text")
        if isinstance(value, str):
            checked = self._checked_text(key, value, tuple(choices))
            return (checked,) if checked else ()
        found: list[str] = []
        for index, item in enumerate(value or []):
            where = f"{key}[{index}]"
            if not isinstance(item, str):
                self.problem(where, f"expected text, got {kind_of(item)}")
            elif (checked := self._checked_text(where, item, tuple(choices))) is not None:
                found.append(checked)
        return tuple(found)

    def number(self, key: str) -> Decimal | None:
        """A non-negative number; "12 450,50" written as text is accepted too."""
        value = self.get(key, (int, float, str), "a number")
        if value is None:
            return None
        try:
            number = Decimal(re.sub(r"[\s\u00a0\u202f]", "", str(value)).replace(",", "."))
        except InvalidOperation:
            self.problem(key, f'"{value}" is not a number')
            return None
        if not number.is_finite() or number < 0:
            self.problem(key, f"{value} is not a positive number")
            return None
        return number

    def regex(self, key: str) -> re.Pattern[str] | None:
        """A compiled regular expression; one that matches the empty text (matches everything) is refused."""
        source = self.text(key)
        if source is None:
            return None
        try:
            pattern = re.compile(source)
        except re.error as error:
            self.problem(key, f"invalid regex: {error}")
            return None
        if pattern.search(""):
            self.problem(key, f"regex {source} matches any text (look for a stray | or a missing group)")
            return None
        return pattern

    def table_list(self, key: str, *, required: bool = False) -> list[tuple[str, Mapping[str, object]]]:
        """An array of tables as (key path suffix "key[i]", table) pairs; other items reported."""
        value = self.get(key, list, "an array of tables", required=required)
        tables = []
        for index, item in enumerate(value or []):
            if isinstance(item, dict):
                tables.append((f"{key}[{index}]", item))
            else:
                self.problem(f"{key}[{index}]", f"expected a table, got {kind_of(item)}")
        return tables

    def child(self, key: str, raw: object, known: Iterable[str], *, elsewhere: Iterable[str] = (),
              elsewhere_note: str = "") -> ConfigTable | None:
        """The sub-table ``raw`` found at ``key``, sharing this table's problems and context."""
        if not isinstance(raw, dict):
            self.problem(key, f"expected a table, got {kind_of(raw)}")
            return None
        return ConfigTable(raw, self.at(key), self.problems, frozenset(known), self.statuses, self.stages,
                           self.event, frozenset(elsewhere), elsewhere_note)

    def template(self, key: str, *, required: bool = False) -> Template | None:
        value = self.get(key, str, "a text template", required=required)
        if value is None:
            return None
        try:
            return compile_template(value, self.at(key), event=self.event)
        except TemplateProblems as error:
            self.problems.extend(error.problems)
            return None

    def delay(self, key: str) -> Delay | None:
        if key not in self.raw or key not in self.known:
            return None
        try:
            return parse_delay(self.raw[key])  # type: ignore[arg-type]
        except UserError as error:
            self.problem(key, error.message)
            return None
