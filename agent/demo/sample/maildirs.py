"""Places each scripted mail in the Maildir++ folders where it would have landed and names the files like Dovecot.

A mail sent by Claire or Julien goes to the sender's ``.Sent``; every copy delivered to one of their addresses
(or to a role address they read) goes to that person's INBOX with the delivery headers our server adds. So a mail
Claire sent with Julien in copy is one Message-ID seen twice: in Claire's Sent and in Julien's INBOX.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from agent.demo.sample import ids
from agent.demo.sample.cast import MAILBOX_OF
from agent.demo.sample.expectations import ANCHOR
from agent.demo.sample.messages import Mail, delivery_headers, delivery_time, render

MAILBOX_OWNERS = {"claire": "claire.martin@atelier-durand.fr", "julien": "julien.petit@atelier-durand.fr"}
SENT_FOLDER = ".Sent"
MAILDIR_SUBDIRS = ("cur", "new", "tmp")
NEWLINE = b"\n"
UNREAD_WINDOW_HOURS = 36  # inbound mail younger than this at the anchor is still unread ("new/")


@dataclass(frozen=True, slots=True)
class MailFile:
    """One file of the sample: where it goes (relative to ``mail/``) and its bytes."""

    path: PurePosixPath
    data: bytes
    delivered_at: datetime
    mail_key: str


def placements(mail: Mail) -> list[tuple[str, str]]:
    """(owner, folder) pairs: "" is the INBOX, ".Sent" the sent folder."""
    found: list[tuple[str, str]] = []
    owner = MAILBOX_OF.get(mail.sender.address)
    if owner in MAILBOX_OWNERS and mail.sender.address == MAILBOX_OWNERS[owner]:
        found.append((owner, SENT_FOLDER))
    addresses = [person.address for person in mail.recipients] + list(mail.delivered_to)
    for address in addresses:
        recipient_owner = MAILBOX_OF.get(address)
        if recipient_owner and (recipient_owner, "") not in found and recipient_owner != owner:
            found.append((recipient_owner, ""))
    return found


def _answered_by(mail: Mail, owner: str) -> bool:
    return any(MAILBOX_OF.get(child.sender.address) == owner and not child.forward for child in mail.children)


def _flags(mail: Mail, owner: str, folder: str) -> str:
    flags = set("S")
    if folder == "" and _answered_by(mail, owner):
        flags.add("R")
    if any(child.forward and MAILBOX_OF.get(child.sender.address) == owner for child in mail.children):
        flags.add("P")
    if mail.flagged and folder == "":
        flags.add("F")
    return "".join(sorted(flags, key="DFPRST".index))


def _is_unread(mail: Mail, owner: str, folder: str) -> bool:
    if folder != "" or _answered_by(mail, owner):
        return False
    return mail.unread or (ANCHOR - mail.when).total_seconds() < UNREAD_WINDOW_HOURS * 3600


def mail_files(mail: Mail) -> list[MailFile]:
    """The files this mail becomes, one per place it landed."""
    sent_bytes = render(mail)
    files = []
    for owner, folder in placements(mail):
        inbound = folder == ""
        data = delivery_headers(mail, MAILBOX_OWNERS[owner]) + sent_bytes if inbound else sent_bytes
        stored_at = delivery_time(mail) if inbound else mail.when
        unique = (f"{int(stored_at.timestamp())}.M{ids.number(10**6, 'usec', mail.key, owner)}"
                  f"P{1000 + ids.number(60000, 'pid', mail.key, owner)}.mail")
        size = f",S={len(data)},W={len(data) + data.count(NEWLINE)}"
        if _is_unread(mail, owner, folder):
            name = PurePosixPath(owner, folder, "new", unique + size) if folder else \
                PurePosixPath(owner, "new", unique + size)
        else:
            leaf = f"{unique}{size}:2,{_flags(mail, owner, folder)}"
            name = PurePosixPath(owner, folder, "cur", leaf) if folder else PurePosixPath(owner, "cur", leaf)
        files.append(MailFile(name, data, stored_at, mail.key))
    return files


def write_mailboxes(mails: list[Mail], root: Path) -> list[MailFile]:
    """Write every mail under ``root`` (one Maildir++ per owner) and the folder markers Dovecot expects."""
    written: list[MailFile] = []
    for owner in MAILBOX_OWNERS:
        for folder in ("", SENT_FOLDER):
            for sub in MAILDIR_SUBDIRS:
                (root / owner / folder / sub).mkdir(parents=True, exist_ok=True)
        (root / owner / SENT_FOLDER / "maildirfolder").write_bytes(b"")
        (root / owner / "subscriptions").write_text("Sent\n", encoding="ascii")
    for mail in mails:
        for file in mail_files(mail):
            target = root / file.path
            target.write_bytes(file.data)
            written.append(file)
    return written
