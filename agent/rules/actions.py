"""Rule actions (the `[[rules.do]]` tables): what a rule does when it fires, validated from the config.

Each table has a ``type`` and its own keys (text values marked "template" use templates.py's variables)::

    type = "task"        title (template, required), body (template), assignee = "sender" (default when the
                         trigger has one, else "manager") | "manager" | an address, due = "2 business days"
    type = "email"       to (required) and cc: "sender" | "contact" | "manager" | an address, or an array of
                         them; subject and body (templates, required); dry_run = true by default: the mail is
                         recorded and shown but not sent until the rule says dry_run = false
    type = "webhook"     url (http or https, required); secret (a secret reference: "env:NAME", "keyring:…" or
                         literal) signs the body: header X-CRM-Agent-Signature = "sha256=<hex HMAC-SHA256>";
                         payload: a table whose text values are templates (JSON-encoded after rendering)
    type = "set_status"  status: one of the contact statuses (lead, prospect, client, …)
    type = "tag"         tag: a tag or an array of tags added to the contact
    type = "deal"        create or update the deal of the thread (else of the contact): stage, amount (a number,
                         or "auto": the mail's best total), name (template); at least one of them

"sender" is the internal person on the interaction (email and meeting triggers only); "contact" the external
one (every trigger but schedule); "manager" the configured manager.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar
from urllib.parse import urlsplit

from agent.matching.addresses import normalize_address
from agent.rules.reader import ConfigTable, suggest
from agent.rules.schedule import Delay
from agent.rules.templates import Template, TemplateProblems, compile_template, render
from agent.secrets import Secret

SENDER_EVENTS = ("email.sent", "email.received", "meeting.ended")
AUTO_AMOUNT_EVENTS = ("email.sent", "email.received")
RECIPIENT_KEYWORDS = ("sender", "contact", "manager")
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "task": ("type", "title", "body", "assignee", "due"),
    "email": ("type", "to", "cc", "subject", "body", "dry_run"),
    "webhook": ("type", "url", "secret", "payload"),
    "set_status": ("type", "status"),
    "tag": ("type", "tag"),
    "deal": ("type", "stage", "amount", "name"),
}
CONTACT_ACTIONS = ("set_status", "tag", "deal")  # need a contact: not for schedule rules


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who an action addresses: ``kind`` "sender", "contact", "manager", or "address" with ``address`` set."""

    kind: str
    address: str = ""

    def __str__(self) -> str:
        return self.address or self.kind


@dataclass(frozen=True, slots=True)
class TaskAction:
    """Create a task for ``assignee``, due ``due`` after the rule fires (at once when None)."""

    title: Template
    body: Template | None
    assignee: Recipient
    due: Delay | None = None
    type: ClassVar[str] = "task"


@dataclass(frozen=True, slots=True)
class EmailAction:
    """Send a text mail through SMTP; with ``dry_run`` (the default) it is recorded, shown, and not sent."""

    to: tuple[Recipient, ...]
    subject: Template
    body: Template
    cc: tuple[Recipient, ...] = ()
    dry_run: bool = True
    type: ClassVar[str] = "email"


SIGNATURE_HEADER = "X-CRM-Agent-Signature"


def sign_webhook(secret: str, body: bytes) -> str:
    """The ``X-CRM-Agent-Signature`` value: "sha256=" + hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class WebhookAction:
    """POST JSON to ``url``. ``payload`` is a table whose text values are templates, rendered one by one and
    then JSON-encoded (mail text can never break the JSON); None sends ``default_payload``. With a ``secret``
    the request carries ``SIGNATURE_HEADER`` (``sign_webhook``)."""

    url: str
    secret: Secret | None = None
    payload: PayloadTable | None = None
    type: ClassVar[str] = "webhook"

    def render_body(self, context: Mapping[str, object], default_payload: Mapping[str, object]) -> bytes:
        """The request body for ``context``; ``default_payload`` is used when the rule gives none."""
        data = _render_value(self.payload, context) if self.payload is not None else default_payload
        return json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class PayloadTable:
    """A webhook payload table, kept hashable: (key, value) pairs; values are Templates, plain TOML values,
    nested PayloadTables or tuples of those."""

    items: tuple[tuple[str, object], ...]


def _render_value(value: object, context: Mapping[str, object]) -> object:
    if isinstance(value, Template):
        return render(value, context)
    if isinstance(value, PayloadTable):
        return {key: _render_value(item, context) for key, item in value.items}
    if isinstance(value, tuple):
        return [_render_value(item, context) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class SetStatusAction:
    """Set the contact's status (one of the configured statuses)."""

    status: str
    type: ClassVar[str] = "set_status"


@dataclass(frozen=True, slots=True)
class TagAction:
    """Add tags to the contact."""

    tags: tuple[str, ...]
    type: ClassVar[str] = "tag"


@dataclass(frozen=True, slots=True)
class DealAction:
    """Create the deal of the thread (or contact) or update it: ``stage``; ``amount`` a number or "auto" (the
    mail's best total, ``amounts.best_total``); ``name`` a template. None leaves a field as it is."""

    stage: str | None = None
    amount: Decimal | str | None = None
    name: Template | None = None
    type: ClassVar[str] = "deal"


Action = TaskAction | EmailAction | WebhookAction | SetStatusAction | TagAction | DealAction


def _recipient(table: ConfigTable, key: str, value: str) -> Recipient | None:
    event = table.event
    if value in RECIPIENT_KEYWORDS:
        if value == "sender" and event and event not in SENDER_EVENTS:
            table.problem(key, f'"sender" has no meaning for on = "{event}" (use "contact", "manager" or an address)'
                          if event != "schedule" else
                          f'"sender" has no meaning for on = "{event}" (use "manager" or an address)')
            return None
        if value == "contact" and event == "schedule":
            table.problem(key, '"contact" has no meaning for on = "schedule" (use "manager" or an address)')
            return None
        return Recipient(value)
    address = normalize_address(value)
    if address is None:
        table.problem(key, f'"{value}" is neither an email address nor one of {", ".join(RECIPIENT_KEYWORDS)}')
        return None
    return Recipient("address", address)


def _recipients(table: ConfigTable, key: str, *, required: bool) -> tuple[Recipient, ...]:
    value = table.get(key, (str, list), "a recipient or an array of recipients", required=required)
    items = [value] if isinstance(value, str) else (value or [])
    if isinstance(value, list) and not value and required:
        table.problem(key, "is empty")
    found = []
    for index, item in enumerate(items):
        where = key if isinstance(value, str) else f"{key}[{index}]"
        if not isinstance(item, str):
            table.problem(where, f"expected a recipient (text), got {item!r}")
        elif (recipient := _recipient(table, where, item.strip())) is not None:
            found.append(recipient)
    return tuple(found)


def _payload_value(table: ConfigTable, key: str, value: object) -> object:
    if isinstance(value, str):
        try:
            return compile_template(value, table.at(key), event=table.event)
        except TemplateProblems as error:
            table.problems.extend(error.problems)
            return None
    if isinstance(value, dict):
        return PayloadTable(tuple((k, _payload_value(table, f"{key}.{k}", v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_payload_value(table, f"{key}[{i}]", v) for i, v in enumerate(value))
    if isinstance(value, date):
        return value.isoformat()
    return value


def _webhook(table: ConfigTable) -> WebhookAction | None:
    url = table.text("url", required=True)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            table.problem("url", f'"{url}" is not an http(s) URL')
    secret_text = table.text("secret")
    payload = table.get("payload", dict, "a table")
    secret = Secret(secret_text, where=table.at("secret")) if secret_text else None
    payload_value = _payload_value(table, "payload", payload) if payload is not None else None
    return WebhookAction(url or "", secret, payload_value)  # type: ignore[arg-type]


def _deal(table: ConfigTable) -> DealAction | None:
    stage = table.text("stage", choices=table.stages)
    amount: Decimal | str | None = None
    if table.raw.get("amount") == "auto":
        amount = "auto"
        if table.event and table.event not in AUTO_AMOUNT_EVENTS:
            table.problem("amount", f'"auto" reads the amount from a mail; on = "{table.event}" has none')
    else:
        amount = table.number("amount")
    name = table.template("name")
    if not any(key in table.raw for key in ("stage", "amount", "name")):
        table.problem("", "a deal action needs at least one of stage, amount, name")
    return DealAction(stage, amount, name)


def parse_action(parent: ConfigTable, key: str, raw: Mapping[str, object]) -> Action | None:
    """Read one `[[rules.do]]` table found at ``parent.at(key)``; None when it has problems (recorded)."""
    where = parent.at(key)
    kind = raw.get("type")
    if kind is None:
        parent.problem(key, f'missing "type" (one of {", ".join(ACTION_KEYS)})')
        return None
    if not isinstance(kind, str) or kind not in ACTION_KEYS:
        choices = ", ".join(ACTION_KEYS)
        shown = json.dumps(kind, ensure_ascii=False, default=str)
        suggestion = suggest(kind, ACTION_KEYS) if isinstance(kind, str) else ""
        parent.problems.append(f"{where}.type: {shown} is not an action (one of {choices}){suggestion}")
        return None
    table = parent.child(key, raw, ACTION_KEYS[kind])
    if table is None:
        return None
    before = len(table.problems)
    if kind in CONTACT_ACTIONS and table.event == "schedule":
        table.problem("type", f'"{kind}" acts on a contact; on = "schedule" has none')
    action: Action | None
    if kind == "task":
        default = "sender" if not table.event or table.event in SENDER_EVENTS else "manager"
        assignee = _recipients(table, "assignee", required=False) or (Recipient(default),)
        if len(assignee) > 1:
            table.problem("assignee", "a task has one assignee")
        action = TaskAction(table.template("title", required=True), table.template("body"),  # type: ignore[arg-type]
                            assignee[0], table.delay("due"))
    elif kind == "email":
        action = EmailAction(_recipients(table, "to", required=True), table.template("subject", required=True),
                             table.template("body", required=True),  # type: ignore[arg-type]
                             _recipients(table, "cc", required=False), table.boolean("dry_run", True))
    elif kind == "webhook":
        action = _webhook(table)
    elif kind == "set_status":
        action = SetStatusAction(table.text("status", required=True, choices=table.statuses) or "")
    elif kind == "tag":
        action = TagAction(table.text_list("tag"))
        if not action.tags and "tag" not in table.raw:
            table.problem("tag", "missing (expected a tag or an array of tags)")
    else:
        action = _deal(table)
    return action if len(table.problems) == before else None
