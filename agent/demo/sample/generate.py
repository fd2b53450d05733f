"""Rewrites agent/demo/data/ (mailboxes, calendar, contacts) from the scripted storylines, deterministically.

Run ``python -m agent.demo.sample.generate`` after changing a storyline, and commit the result: the demo and the
tests read the committed files. Nothing here uses the clock, ``random`` or the network, so two runs write
byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from pathlib import Path

from agent.demo.sample import story_accounts, story_noise, story_quotes, story_routine
from agent.demo.sample.contacts import contacts_csv
from agent.demo.sample.expectations import ANCHOR, CONTACTS_EXPORTED_AT
from agent.demo.sample.maildirs import MailFile, write_mailboxes
from agent.demo.sample.meetings import calendar_files
from agent.demo.sample.messages import Mail

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def all_mails() -> list[Mail]:
    """Every scripted mail, checked for duplicate keys and for dates after the anchor."""
    mails = [*story_quotes.storylines(), *story_accounts.storylines(), *story_noise.storylines(),
             *story_routine.storylines()]
    duplicates = [key for key, count in Counter(mail.key for mail in mails).items() if count > 1]
    if duplicates:
        raise ValueError(f"duplicate mail keys: {duplicates}")
    late = [mail.key for mail in mails if mail.when > ANCHOR]
    if late:
        raise ValueError(f"mails dated after the anchor: {late}")
    return sorted(mails, key=lambda mail: (mail.when, mail.key))


def generate(destination: Path = DATA_DIR) -> list[MailFile]:
    """Replace ``destination`` with a fresh copy of the sample; returns the mail files written."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    written = write_mailboxes(all_mails(), destination / "mail")
    for file in written:
        stamp = file.delivered_at.timestamp()
        os.utime(destination / "mail" / file.path, (stamp, stamp))
    calendar_dir = destination / "calendar"
    calendar_dir.mkdir()
    for name, data in calendar_files().items():
        (calendar_dir / name).write_bytes(data)
    (destination / "contacts.csv").write_bytes(contacts_csv())
    stamp = CONTACTS_EXPORTED_AT.timestamp()
    os.utime(destination / "contacts.csv", (stamp, stamp))
    return written


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    destination = Path(arguments[0]) if arguments else DATA_DIR
    written = generate(destination)
    distinct = {file.mail_key for file in written}
    print(f"wrote {len(written)} mail files ({len(distinct)} distinct messages), "
          f"{len(calendar_files())} calendar objects and contacts.csv to {destination}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
