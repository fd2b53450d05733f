"""A small company's store for the status page's tests, built through the real pipeline (no hand-written rows).

One Maildir account (INBOX and Sent), a contacts file with a near-duplicate pair, two unknown senders, one relance
rule whose timers are fired by moving the clock, and a mail whose subject, sender name and attachment name are XSS
payloads (and an unknown sender whose name is one). The store
is built once per session; each test gets its own copy of the SQLite file.
"""

from __future__ import annotations

import mailbox
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from agent.clock import FakeClock
from agent.service import AgentService
from tests.support.env import make_settings

BASE = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 10, 13, 10, 0, tzinfo=UTC)  # after the relances' due time (3 business days + 1)
PAGE_NOW = NOW + timedelta(minutes=5)  # the page is looked at a little after the last sync
OWNER = "claire.martin@atelier-durand.fr"

XSS_SUBJECT = '<script>window.pwned = "subject"</script> Devis <b>urgent</b> & co'
XSS_NAME = '<img src=x onerror="window.pwned=\'name\'">Eve'
XSS_ATTACHMENT = '"><svg onload="window.pwned=\'attachment\'">.pdf'
XSS_ADDRESS = "eve@evil-corp.example"
XSS_UNKNOWN_NAME = "<img src=x onerror=\"window.pwned='unknown'\">Mallory"
UNKNOWN_SENDERS = ("luc.bernard@menuiserie-luc.fr", "mallory@evil-corp.example")

RELANCE_RULE = {
    "name": "relance-devis",
    "on": "email.sent",
    "after": "3 business days",
    "unless": ["reply"],
    "once_per": "thread",
    "when": {"subject": r"(?i)^\s*devis\b"},
    "do": [{"type": "task", "title": "Relancer {{ contact.name or contact.email }} — {{ interaction.subject }}"}],
}

CONTACTS_CSV = """nom;prénom;email;société;téléphone;fonction;statut
Dupont;Jean;jean.dupont@acme-industrie.fr;ACME Industrie;01 23 45 67 89;Acheteur;prospect
Dupont;Jean;j.dupont@orange.fr;;01 23 45 67 89;;prospect
Martin;Paul;paul.martin@bati-ouest.fr;Bâti Ouest;02 40 00 00 01;Gérant;client
Curie;Marie;marie.curie@labo-sud.fr;Labo Sud;;Directrice;client
<i>Eve</i>;<script>window.pwned='contact'</script>;eve@evil-corp.example;<b>Evil</b> Corp;;;prospect
"""


def _mail(sender: Address, to: Address, subject: str, when: datetime, *, body: str = "Bonjour,\n\nCordialement.\n",
          attachment: str | None = None, reply_to_id: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    if reply_to_id:
        message["In-Reply-To"] = reply_to_id
        message["References"] = reply_to_id
    message.set_content(body)
    if attachment:
        message.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename=attachment)
    return bytes(message)


def write_mailboxes(root: Path) -> None:
    box = mailbox.Maildir(root, create=True)
    sent = box.add_folder("Sent")
    claire = Address("Claire Martin", addr_spec=OWNER)
    jean = Address("Jean Dupont", addr_spec="jean.dupont@acme-industrie.fr")
    paul = Address("Paul Martin", addr_spec="paul.martin@bati-ouest.fr")
    marie = Address("Marie Curie", addr_spec="marie.curie@labo-sud.fr")
    eve = Address(XSS_NAME, addr_spec=XSS_ADDRESS)
    luc = Address("Luc Bernard", addr_spec=UNKNOWN_SENDERS[0])
    mallory = Address(XSS_UNKNOWN_NAME, addr_spec=UNKNOWN_SENDERS[1])
    sent.add(_mail(claire, jean, "Devis n°42 – agencement du hall", BASE, attachment="devis-42.pdf"))
    sent.add(_mail(claire, paul, "Devis n°43 – rénovation des bureaux", BASE + timedelta(hours=3)))
    box.add(_mail(eve, claire, XSS_SUBJECT, BASE + timedelta(hours=1), attachment=XSS_ATTACHMENT,
                  body="<script>window.pwned = 'snippet'</script> Cliquez ici\n"))
    box.add(_mail(marie, claire, "Rendez-vous jeudi au laboratoire", BASE + timedelta(hours=2)))
    box.add(_mail(luc, claire, "Sous-traitance menuiserie", BASE + timedelta(days=2, hours=4)))
    box.add(_mail(mallory, claire, "Facture impayée", BASE + timedelta(days=3, hours=4)))
    for day in range(1, 6):  # some activity on other days, for the chart
        box.add(_mail(marie, claire, f"Point d'avancement {day}", BASE + timedelta(days=day, hours=1)))


@dataclass
class World:
    root: Path
    database: Path
    maildir: Path
    contacts_csv: Path

    def settings(self, database: Path, **overrides):
        account = {"name": "claire", "kind": "maildir", "path": str(self.maildir), "owner": OWNER,
                   "visibility": "snippet", "create_contacts": "sent"}
        return make_settings(self.root, [account], database=f"sqlite:///{database}", rules=[RELANCE_RULE],
                             timezone="Europe/Paris", **overrides)

    def copy_to(self, directory: Path) -> Path:
        """A private copy of the built store (the SQLite file holds everything after a checkpoint)."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "crm.db"
        shutil.copyfile(self.database, target)
        return target

    def service(self, database: Path, *, now: datetime = PAGE_NOW, **overrides) -> AgentService:
        return AgentService(self.settings(database, **overrides), clock=FakeClock(now))


def build_world(root: Path) -> World:
    root.mkdir(parents=True, exist_ok=True)
    world = World(root, root / "built.db", root / "Mail", root / "contacts.csv")
    write_mailboxes(world.maildir)
    world.contacts_csv.write_text(CONTACTS_CSV, encoding="utf-8")
    clock = FakeClock(BASE + timedelta(hours=4))
    service = AgentService(world.settings(world.database), clock=clock)
    try:
        service.import_contacts(world.contacts_csv)
        service.sync()
        clock.set(BASE + timedelta(days=6, hours=2))  # the rest of the week's mail
        service.sync()
        clock.set(NOW)
        service.sync()  # the last pass: every target is up to date at NOW
        service.feature("rules").run_due(NOW)  # the relances come due: their tasks are created
        review = service.feature("review")
        if review is not None:  # the two Jean Dupont records wait in the review queue (none merged by itself)
            review.find_duplicates(auto_merge=False)
    finally:
        service.close()
    _checkpoint(world.database)
    return world


def _checkpoint(database: Path) -> None:
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
