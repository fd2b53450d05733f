"""The five example rules shipped with crm-agent, and the demo that shows them acting on the sample company.

``EXAMPLE_RULES`` is TOML text: the demo configures it, config.example.toml copies it, and a test checks that the
copies (this one, config.example.toml, tests/rules/example_rules.toml) agree. The rules: 1. relance 3 business days
after a quote; 2. welcome mail to a new prospect, once per contact ever; 3. manager alert when a deal's amount
exceeds 10 000 €; 4. weekly activity report, Monday 08:00; 5. status "client" when a purchase order arrives.

``LocalSinks`` is the demo's own SMTP sink (aiosmtpd) and webhook receiver on 127.0.0.1, so rule mail really leaves
through SMTP without reaching anyone; ``rules_story`` runs the rules over the synced sample and reports what they did.
"""


from __future__ import annotations

import email
import email.policy
import hmac
import json
import socket
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent.rules.actions import SIGNATURE_HEADER, sign_webhook

EXAMPLE_RULES = r'''
# 1. Follow up a quote three business days after it was sent, unless the customer replied.
[[rules]]
name = "relance-devis"
description = "Relancer un devis resté sans réponse 3 jours ouvrés après l'envoi"
on = "email.sent"
after = "3 business days"
unless = ["reply", "deal_closed"]
once_per = "thread"

[rules.when]
any = [
    { subject = '(?i)^\s*(devis|quote|proposition commerciale|offre)\b' },  # a new quote, not a reply about one
    { attachment = '(?i)devis.*\.pdf' },
]

[[rules.do]]
type = "task"
title = "Relancer {{ contact.name or contact.email }} — {{ interaction.subject }}"
body = """
Devis envoyé le {{ interaction.date | date("long") }} à {{ contact.name }} ({{ company.name }}), sans réponse.
{% if amount %}Montant : {{ amount }}{% endif %}
"""
assignee = "sender"
due = "1 business day"

# 2. Welcome a new prospect, once per contact, ever.
[[rules]]
name = "bienvenue-prospect"
on = "contact.created"
once_per = "contact"

[rules.when]
status = ["prospect"]

[[rules.do]]
type = "email"
to = "contact"
cc = "manager"
subject = "Bienvenue chez nous, {{ contact.first_name or contact.name }}"
body = """
Bonjour {{ contact.first_name or contact.name }},

Merci pour votre intérêt. Je reste à votre disposition pour toute question.

{{ manager.name }}
"""
dry_run = true

# 3. Alert the manager when a deal grows past 10 000 €.
[[rules]]
name = "alerte-gros-deal"
on = "deal.changed"
once_per = "deal"

[rules.when]
amount_gt = 10000

[[rules.do]]
type = "email"
to = "manager"
subject = "Deal important : {{ deal.name }} ({{ deal.amount | money }})"
body = """
{{ deal.name }} ({{ company.name }}) est passé à {{ deal.amount | money }}, étape « {{ deal.stage }} ».
Contact : {{ contact.name }} <{{ contact.email }}>
"""
dry_run = false

[[rules.do]]
type = "webhook"
url = "https://hooks.example.fr/crm/gros-deal"
secret = "env:CRM_WEBHOOK_SECRET"
payload = { text = "Deal {{ deal.name }} : {{ deal.amount | money }}", stage = "{{ deal.stage }}", urgent = true }

# 4. Weekly activity report, Monday 08:00 Paris time.
[[rules]]
name = "rapport-hebdo"
on = "schedule"
cron = "0 8 * * MON"

[[rules.do]]
type = "email"
to = ["manager", "direction@example.fr"]
subject = "Activité commerciale — {{ period.label }}"
body = """
{{ report.summary }}

Mails envoyés : {{ report.emails_sent }} — reçus : {{ report.emails_received }}
Réunions : {{ report.meetings }} — nouveaux contacts : {{ report.new_contacts }}
Tâches ouvertes : {{ report.tasks_open }} (dont {{ report.tasks_overdue }} en retard)
"""
dry_run = false

# 5. A purchase order makes the contact a client.
[[rules]]
name = "bon-de-commande-client"
on = "email.received"

[rules.when]
any = [
    { subject = '(?i)\bbons? de commande\b' },
    { body = '(?i)\bbons? de commande\b' },
    { attachment = '(?i)(bon[ _-]?de[ _-]?commande|\bBDC\b).*\.pdf' },
]

[[rules.do]]
type = "set_status"
status = "client"

[[rules.do]]
type = "deal"
stage = "won"
amount = "auto"

[[rules.do]]
type = "tag"
tag = "commande-recue"
'''

MANAGER = ("Marc Durand", "marc.durand@atelier-durand.fr")
WEBHOOK_SECRET = "demo-secret"  # the demo's local receiver checks the signature with it
NEW_PROSPECT = ("Perrin", "Gérard", "gerard.perrin@wanadoo.fr", "Cave Le Sarment", "prospect")


def demo_rules_config(smtp_port: int | None, webhook_url: str) -> str:
    """The config the demo appends: [smtp] towards the local sink, and the example rules with mail really sent
    (dry_run = false) to it and the webhook pointed at the local receiver."""
    rules = EXAMPLE_RULES.replace("dry_run = true", "dry_run = false")
    rules = rules.replace('url = "https://hooks.example.fr/crm/gros-deal"', f'url = "{webhook_url}"')
    rules = rules.replace('secret = "env:CRM_WEBHOOK_SECRET"', f'secret = "{WEBHOOK_SECRET}"')
    if smtp_port is None:  # no aiosmtpd here: mails stay recorded (dry run), nothing is sent
        rules = rules.replace("dry_run = false", "dry_run = true")
        return "\n" + rules
    smtp = (f'\n[smtp]  # the demo\'s own sink on 127.0.0.1: nothing leaves this machine\nhost = "127.0.0.1"\n'
            f'port = {smtp_port}\nsecurity = "plain"\nsender = "crm@atelier-durand.fr"\n\n')
    return smtp + rules


class LocalSinks:
    """An SMTP sink and a webhook receiver on 127.0.0.1, free ports, recording what they get; ``with`` stops them."""

    def __init__(self) -> None:
        self.mails: list[bytes] = []
        self.webhooks: list[dict[str, Any]] = []
        self.smtp_port: int | None = None
        self._controller = None
        self._http = None

    def __enter__(self) -> LocalSinks:
        self._start_smtp()
        self._start_http()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def _start_smtp(self) -> None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:  # the demo still runs; mails are recorded as dry runs
            return
        sinks = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
                content = envelope.content
                sinks.mails.append(content if isinstance(content, bytes) else content.encode())
                return "250 OK"

        with socket.socket() as probe:  # the controller checks readiness by connecting: it needs a port up front
            probe.bind(("127.0.0.1", 0))
            self.smtp_port = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.smtp_port)
        self._controller.start()

    def _start_http(self) -> None:
        sinks = self

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                signed = hmac.compare_digest(self.headers.get(SIGNATURE_HEADER, ""), sign_webhook(WEBHOOK_SECRET, body))
                sinks.webhooks.append({"body": json.loads(body), "signature_ok": signed,
                                       "idempotency_key": self.headers.get("Idempotency-Key", "")})
                self.send_response(200 if signed else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    @property
    def webhook_url(self) -> str:
        port = self._http.server_address[1] if self._http else 9
        return f"http://127.0.0.1:{port}/crm/gros-deal"


def prepare_demo_rules(service) -> None:
    """Before the sample is imported: the manager is Marc Durand, and the whole six-week story may still act (the
    grace reaches back 60 days, where a real agent would mark such old timers missed). The first tick happens after
    contacts.csv is imported: those contacts are the CRM as it was, not new contacts."""
    rules = service.feature("rules")
    if rules is not None:
        rules.configure(manager_name=MANAGER[0], manager_address=MANAGER[1], grace=timedelta(days=60))


def rules_story(service, workspace: Path, sinks: LocalSinks) -> dict[str, Any]:
    """After the sample is synced at its anchor: fire what is due, add a new prospect, deliver the mail; then move
    the clock to the weekly report's time (Monday 08:00). Returns what the rules did, for the demo to print."""
    rules = service.feature("rules")
    if rules is None:
        return {}
    anchor = service.clock.now()
    fired = rules.run_due(anchor)
    prospect = workspace / "nouveau-prospect.csv"
    prospect.write_text("nom;prénom;email;société;statut\n" + ";".join(NEW_PROSPECT) + "\n", encoding="utf-8")
    service.import_contacts(prospect)
    welcome = rules.run_due(anchor)
    tasks, pending = rules.tasks(), rules.timers("pending")
    schedules = [t for t in pending if t["event"] == "schedule"]
    weekly: dict[str, Any] = {}
    if schedules:
        monday = datetime.fromisoformat(schedules[0]["due_at"]) + timedelta(minutes=1)
        service.clock.set(monday)
        weekly = {"at": monday.isoformat(), **rules.run_due(monday)}
        service.clock.set(anchor)
    return {"at_anchor": fired, "new_prospect": welcome, "monday": weekly, "tasks": tasks,
            "pending_timers": pending, "deals": rules.deals(), "timers": rules.timers(),
            "emails": [_mail_summary(raw) for raw in sinks.mails], "webhooks": list(sinks.webhooks),
            "outbox": [m for m in rules.outbox() if m["status"] != "delivered"]}


def _mail_summary(raw: bytes) -> dict[str, Any]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain",))
    return {"from": str(message["From"]), "to": str(message["To"]), "cc": str(message["Cc"] or ""),
            "subject": str(message["Subject"]), "rule": str(message["X-CRM-Agent-Rule"] or ""),
            "message_id": str(message["Message-ID"]).strip(), "body": body.get_content() if body else ""}
