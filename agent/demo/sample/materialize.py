"""Copies the bundled demo sample into a workspace, moved by whole weeks so its story ends in the current week.

The committed files (agent/demo/data) are dated around ``ANCHOR`` (Friday 20 November 2026, 18:00 Paris). The
workspace copy moves every date (Date and Received headers, dates quoted in bodies, the invitation's iCalendar
part, .ics DTSTART/DTEND/RECURRENCE-ID/EXDATE/DTSTAMP/UNTIL, file mtimes) by the number of weeks between the
anchor's week and the week of ``now``. Whole weeks keep weekdays, so "3 business days after a quote" means the
same thing in the copy. Nothing is parsed and re-serialized: the bytes change only where a date is written.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from agent.demo.sample.dates import PARIS, shift_epoch, shift_ics_bytes, shift_mail_bytes, shift_wall_clock
from agent.demo.sample.expectations import ANCHOR, CONTACTS_EXPORTED_AT
from agent.errors import UserError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MAILBOX_NAMES = ("claire", "julien")
MAILDIR_FOLDERS = ("", ".Sent")
MAILDIR_SUBDIRS = ("cur", "new", "tmp")
_MAILDIR_STAMP = re.compile(r"^(\d+)\.")
_LAST_MODIFIED = re.compile(rb"^LAST-MODIFIED:(\d{8}T\d{6})Z", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SampleLayout:
    """Where a materialized sample lives and how far its dates were moved."""

    root: Path
    claire_maildir: Path
    julien_maildir: Path
    calendar_dir: Path
    contacts_csv: Path
    shift_weeks: int
    anchor: datetime  # ANCHOR moved by the shift: "now" for the story the workspace tells

    @property
    def shift(self) -> timedelta:
        return timedelta(weeks=self.shift_weeks)

    @property
    def mailboxes(self) -> dict[str, Path]:
        return {"claire": self.claire_maildir, "julien": self.julien_maildir}

    def shifted(self, sample_moment: datetime) -> datetime:
        """A date of the sample (as in ``expectations``) as it reads in this workspace (Paris wall clock kept)."""
        return shift_wall_clock(sample_moment, self.shift_weeks)


def weeks_to_shift(now: datetime, anchor: datetime = ANCHOR) -> int:
    """Whole weeks from the anchor's Monday to the Monday of ``now``'s week (Paris calendar; naive = Paris)."""
    local_now = (now if now.tzinfo else now.replace(tzinfo=PARIS)).astimezone(PARIS).date()
    local_anchor = anchor.astimezone(PARIS).date()
    monday_now = local_now - timedelta(days=local_now.weekday())
    monday_anchor = local_anchor - timedelta(days=local_anchor.weekday())
    return (monday_now - monday_anchor).days // 7


def _copy_maildir(source: Path, target: Path, weeks: int) -> None:
    for folder in MAILDIR_FOLDERS:
        for sub in MAILDIR_SUBDIRS:
            (target / folder / sub).mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        if path.is_dir():
            continue
        destination = target / path.relative_to(source)
        if path.parent.name not in ("cur", "new"):
            shutil.copyfile(path, destination)  # maildirfolder, subscriptions
            continue
        destination.write_bytes(shift_mail_bytes(path.read_bytes(), weeks))
        stamp = _MAILDIR_STAMP.match(path.name)
        if stamp:  # Maildir names start with the delivery time: it is the file's mtime too
            moved = shift_epoch(int(stamp[1]), weeks)
            os.utime(destination, (moved, moved))


def _copy_calendar(source: Path, target: Path, weeks: int) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.ics")):
        data = shift_ics_bytes(path.read_bytes(), weeks)
        destination = target / path.name
        destination.write_bytes(data)
        modified = _LAST_MODIFIED.search(data)
        if modified:
            seconds = datetime.strptime(modified[1].decode(), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc).timestamp()
            os.utime(destination, (seconds, seconds))


def materialize(dest: Path, now: datetime, *, source: Path = DATA_DIR, overwrite: bool = False) -> SampleLayout:
    """Copy the sample into ``dest`` (mail/claire, mail/julien, calendar, contacts.csv) dated for ``now``'s week.

    Refuses (UserError) to write over an existing copy unless ``overwrite``; never writes under ``source``.
    """
    dest = Path(dest)
    if not (source / "mail").is_dir() or not (source / "calendar").is_dir():
        raise UserError(f"demo sample not found in {source}: run `python -m agent.demo.sample.generate`")
    if dest.resolve() == source.resolve() or source.resolve() in dest.resolve().parents:
        raise UserError(f"cannot materialize the demo sample inside its own source folder {source}")
    layout = SampleLayout(
        root=dest, claire_maildir=dest / "mail" / "claire", julien_maildir=dest / "mail" / "julien",
        calendar_dir=dest / "calendar", contacts_csv=dest / "contacts.csv", shift_weeks=weeks_to_shift(now),
        anchor=shift_wall_clock(ANCHOR, weeks_to_shift(now)))
    targets = (*layout.mailboxes.values(), layout.calendar_dir, layout.contacts_csv)
    existing = [path for path in targets if path.exists()]
    if existing and not overwrite:
        raise UserError(f"{existing[0]} already exists: choose an empty folder or pass overwrite=True")
    for path in existing:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in MAILBOX_NAMES:
        _copy_maildir(source / "mail" / name, layout.mailboxes[name], layout.shift_weeks)
    _copy_calendar(source / "calendar", layout.calendar_dir, layout.shift_weeks)
    shutil.copyfile(source / "contacts.csv", layout.contacts_csv)
    exported = shift_wall_clock(CONTACTS_EXPORTED_AT, layout.shift_weeks).timestamp()
    os.utime(layout.contacts_csv, (exported, exported))
    return layout
