"""The bundled demo sample: every mail parses, each required case is present, materialize moves dates by whole
weeks without touching the source, and regenerating writes the same bytes."""

from __future__ import annotations

import csv
import email
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import holidays
import icalendar
import pytest
import recurring_ical_events

from agent.demo.sample import ANCHOR, DATA_DIR, QUOTES, WHAT_TO_EXPECT, QuoteOutcome, materialize, weeks_to_shift
from agent.demo.sample.contacts import DUPLICATE_PAIR, HEADERS
from agent.demo.sample.dates import PARIS
from agent.demo.sample.expectations import (
    LEMAIRE_POSE_UID,
    MAIRIE_UID,
    TILLEULS_CANCELLED,
    TILLEULS_EXDATE,
    TILLEULS_MOVED_FROM,
    TILLEULS_MOVED_TO,
    TILLEULS_SERIES_UID,
    UNKNOWN_ATTENDEE,
)
from agent.demo.sample.generate import generate
from agent.errors import UserError

MAILDIR_NAME = re.compile(r"^(\d+)\.M\d+P\d+\.mail,S=(\d+),W=(\d+)(:2,([DFPRST]*))?$")
OWN = "@atelier-durand.fr"


@dataclass(frozen=True)
class SampleMail:
    path: Path
    owner: str  # "claire" | "julien"
    folder: str  # "INBOX" | "Sent"
    raw: bytes
    message: EmailMessage

    @property
    def message_id(self) -> str | None:
        value = self.message["Message-ID"]
        return str(value).strip().strip("<>") if value else None

    @property
    def references(self) -> list[str]:
        """In-Reply-To first, then References."""
        text = " ".join(str(self.message[name] or "") for name in ("In-Reply-To", "References"))
        return re.findall(r"<([^>]+)>", text)

    @property
    def sender(self) -> str:
        return self.message["From"].addresses[0].addr_spec.lower()

    @property
    def addresses(self) -> set[str]:
        found = set()
        for name in ("From", "To", "Cc"):
            header = self.message[name]
            if header is not None:
                found |= {address.addr_spec.lower() for address in header.addresses}
        return found

    @property
    def date(self) -> datetime:
        return parsedate_to_datetime(str(self.message["Date"]))

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def attachment_names(self) -> list[str]:
        return [part.get_filename() for part in self.message.iter_attachments() if part.get_filename()]


def load_mails(root: Path) -> list[SampleMail]:
    mails = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.parent.name in ("cur", "new"):
            owner = path.relative_to(root).parts[0]
            folder = "Sent" if ".Sent" in path.parts else "INBOX"
            raw = path.read_bytes()
            mails.append(SampleMail(path, owner, folder, raw, email.message_from_bytes(raw, policy=policy.default)))
    return mails


def tree_digest(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def mails() -> list[SampleMail]:
    return load_mails(DATA_DIR / "mail")


@pytest.fixture(scope="module")
def by_id(mails) -> dict[str, list[SampleMail]]:
    index: dict[str, list[SampleMail]] = {}
    for mail in mails:
        if mail.message_id:
            index.setdefault(mail.message_id, []).append(mail)
    return index


@pytest.fixture(scope="module")
def calendars() -> dict[str, icalendar.Calendar]:
    return {path.name: icalendar.Calendar.from_ical(path.read_bytes())
            for path in sorted((DATA_DIR / "calendar").glob("*.ics"))}


# ---------------------------------------------------------------------------------------------- mail


def test_every_mail_parses_and_the_counts_are_reached(mails, by_id):
    assert len(mails) >= 160
    assert len(by_id) >= 150
    without_id = [mail for mail in mails if mail.message_id is None]
    assert len(without_id) == 1 and without_id[0].message["Reply-To"] is not None
    for mail in mails:
        assert not mail.message.defects or mail.path.name in {m.path.name for m in without_id}, mail.path
        assert mail.sender and mail.message["Subject"] is not None
        assert ANCHOR - timedelta(weeks=7) <= mail.date <= ANCHOR, mail.path
    offsets = {mail.date.utcoffset() for mail in mails if mail.sender.endswith(OWN)}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # the history spans the end of summer time


def test_mailboxes_are_maildir_plus_plus_with_dovecot_style_names():
    for owner in ("claire", "julien"):
        root = DATA_DIR / "mail" / owner
        assert (root / "cur").is_dir() and (root / ".Sent" / "cur").is_dir()
        assert (root / ".Sent" / "maildirfolder").is_file()
        for path in root.rglob("*"):
            if path.is_file() and path.parent.name in ("cur", "new"):
                match = MAILDIR_NAME.match(path.name)
                assert match, path.name
                assert int(match[2]) == path.stat().st_size
                assert (match[4] is None) == (path.parent.name == "new")
    assert list((DATA_DIR / "mail" / "claire" / "new").iterdir())  # something is still unread


def test_threads_only_reference_messages_of_the_sample(mails, by_id):
    references = [(mail, ref) for mail in mails for ref in mail.references]
    assert len(references) > 80
    dangling = [(mail.path.name, ref) for mail, ref in references if ref not in by_id]
    assert dangling == []


def test_the_same_message_sits_in_both_colleagues_mailboxes(by_id):
    shared = [copies for copies in by_id.values() if {copy.owner for copy in copies} == {"claire", "julien"}]
    assert len(shared) >= 10
    quote = next(q for q in QUOTES if q.number == "2026-036")
    places = {(copy.owner, copy.folder) for copy in by_id[quote.message_id]}
    assert places == {("claire", "Sent"), ("julien", "INBOX")}
    copies = by_id[quote.message_id]
    assert copies[0].raw != copies[1].raw  # the INBOX copy carries delivery headers, the Sent copy does not


def test_mail_looks_like_french_b2b_mail(mails):
    raw_headers = b"\n".join(mail.raw.split(b"\n\n", 1)[0] for mail in mails)
    assert b"=?utf-8?" in raw_headers  # RFC 2047 subjects and names
    unfolded = re.sub(rb"\n[ \t]+", b" ", raw_headers).split(b"\n")
    encoded = {line.split(b":", 1)[0].decode() for line in unfolded if b"=?" in line}
    assert encoded <= {"Subject", "From", "To", "Cc", "Thread-Topic"}  # never in ids or list headers
    assert sum(b"quoted-printable" in mail.raw for mail in mails) > 150
    texts = [mail.text() for mail in mails]
    assert sum(" a écrit :" in text for text in texts) >= 20
    assert sum("-----Message d'origine-----" in text for text in texts) >= 20
    assert sum("\n-- \n" in text for text in texts) >= 20
    subjects = [str(mail.message["Subject"]) for mail in mails]
    assert any(subject.startswith("RE : ") for subject in subjects)
    assert any(subject.startswith("Re: ") for subject in subjects)
    assert any("é" in subject for subject in subjects)


# ---------------------------------------------------------------------------------------------- quotes


def _business_days_between(start: date, end: date) -> int:
    french = holidays.France(years=range(start.year, end.year + 1))
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += day.weekday() < 5 and day not in french
    return days


def test_each_quote_is_in_claires_sent_with_its_pdf_and_amount(by_id):
    for quote in QUOTES:
        [sent] = [copy for copy in by_id[quote.message_id] if copy.folder == "Sent"]
        assert sent.owner == "claire" and quote.client.address in sent.addresses
        assert str(sent.message["Subject"]) == quote.subject
        assert quote.attachment in sent.attachment_names()
        assert quote.amount_text in sent.text()
        assert sent.date.replace(second=0) == quote.sent_at


def test_quote_outcomes_match_what_the_mailboxes_hold(mails, by_id):
    for quote in QUOTES:
        answers = [mail for mail in mails
                   if mail.references[:1] == [quote.message_id] and not mail.sender.endswith(OWN)]
        from_client = [mail for mail in mails if mail.sender == quote.client.address and mail.date > quote.sent_at]
        real = [mail for mail in answers if mail.message["Auto-Submitted"] is None]
        assert {mail.message_id for mail in answers} == set(quote.answer_ids), quote.number
        if quote.outcome is QuoteOutcome.REPLIED:
            first = min(real, key=lambda mail: mail.date)
            assert any(mail.owner == "claire" for mail in by_id[first.message_id])
            assert _business_days_between(quote.sent_at.date(), first.date.date()) <= 1
        elif quote.outcome is QuoteOutcome.REPLIED_TO_COLLEAGUE:
            assert {(copy.owner, copy.folder) for mail in real for copy in by_id[mail.message_id]} == \
                {("julien", "INBOX")}
        elif quote.outcome is QuoteOutcome.AUTO_REPLY_ONLY:
            assert real == [] and len(answers) == 1
            assert str(answers[0].message["Subject"]) == "Réponse automatique : absence"
        else:  # nothing at all came back from the client
            assert answers == [] and from_client == []
    unanswered = [quote for quote in QUOTES if quote.outcome is QuoteOutcome.NO_REPLY]
    assert len(unanswered) >= 2
    for quote in unanswered:
        assert 4 <= _business_days_between(quote.sent_at.date(), ANCHOR.date()) <= 7
    assert any(quote.thousands_separator == "\u00a0" for quote in QUOTES)


def test_the_required_special_cases_are_present(mails):
    def find(predicate) -> list[SampleMail]:
        return [mail for mail in mails if predicate(mail)]

    assert find(lambda m: "bon de commande" in m.text().lower() and not m.sender.endswith(OWN)
                and any(name.startswith("Bon_de_commande") for name in m.attachment_names()))
    assert find(lambda m: "contact@atelier-durand.fr" in m.addresses and m.sender.endswith("@wanadoo.fr")
                and not m.references)
    newsletters = find(lambda m: m.message["List-Id"] and m.message["List-Unsubscribe"])
    assert len(newsletters) >= 8
    assert find(lambda m: str(m.message["Subject"]).startswith("Absence du bureau") and m.message["Auto-Submitted"])
    assert find(lambda m: str(m.message["Subject"]).startswith("Automatic reply:") and m.message["Auto-Submitted"])
    [bounce] = find(lambda m: m.message.get_content_type() == "multipart/report")
    assert bounce.message.get_param("report-type") == "delivery-status"
    assert bounce.sender.startswith("mailer-daemon@")
    assert "message/delivery-status" in {part.get_content_type() for part in bounce.message.walk()}
    assert find(lambda m: all(address.endswith(OWN) for address in m.addresses) and len(m.addresses) >= 2)
    assert find(lambda m: "Facture_F2026-10873.pdf" in m.attachment_names() and m.sender.startswith("factures@"))
    broken = find(lambda m: m.message.get_content_charset() == "utf-8" and not _is_utf8(m.raw))
    assert len(broken) == 1
    assert "\ufffd" in broken[0].text() or "\ufffd" in str(broken[0].message["Subject"])
    senders = {mail.sender.rsplit("@", 1)[1] for mail in mails}
    assert {"orange.fr", "gmail.com", "wanadoo.fr"} <= senders


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_the_invitation_shares_its_uid_with_the_calendar(mails, calendars):
    invitations = []
    for mail in mails:
        for part in mail.message.walk():
            if part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST":
                invitations.append((mail, icalendar.Calendar.from_ical(part.get_content())))
    assert {mail.owner for mail, _ in invitations} == {"claire", "julien"}
    [uid] = {str(event["UID"]) for _, calendar in invitations for event in calendar.walk("VEVENT")}
    assert uid == MAIRIE_UID
    calendar_uids = {str(event["UID"]) for calendar in calendars.values() for event in calendar.walk("VEVENT")}
    assert uid in calendar_uids


def test_every_expected_identifier_exists(by_id, calendars):
    calendar_uids = {str(event["UID"]) for calendar in calendars.values() for event in calendar.walk("VEVENT")}
    for expectation in WHAT_TO_EXPECT:
        assert all(message_id in by_id for message_id in expectation.message_ids), expectation.case
        assert all(uid in calendar_uids for uid in expectation.uids), expectation.case


# ---------------------------------------------------------------------------------------------- calendar and contacts


def test_calendar_files_hold_one_series_each_with_the_paris_zone(calendars):
    assert len(calendars) >= 8
    starts = []
    for name, calendar in calendars.items():
        assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Paris"], name
        assert len({str(event["UID"]) for event in calendar.walk("VEVENT")}) == 1, name
        occurrences = recurring_ical_events.of(calendar).between(datetime(2026, 1, 1), datetime(2028, 1, 1))
        starts += [event.decoded("DTSTART") for event in occurrences]
    datetimes = [start for start in starts if isinstance(start, datetime)]
    assert min(datetimes) <= ANCHOR - timedelta(weeks=4) and max(datetimes) >= ANCHOR + timedelta(weeks=2)


def test_the_weekly_series_has_a_moved_and_a_cancelled_occurrence(calendars):
    calendar = calendars["tilleuls-point-hebdo.ics"]
    master = next(event for event in calendar.walk("VEVENT") if "RRULE" in event)
    assert str(master["UID"]) == TILLEULS_SERIES_UID and master["RRULE"]["FREQ"] == ["WEEKLY"]
    occurrences = recurring_ical_events.of(calendar).between(datetime(2026, 10, 1), datetime(2027, 1, 1))
    by_start = {event.decoded("DTSTART"): event for event in occurrences}
    assert len(by_start) == 7  # 8 weekly dates, one removed by EXDATE
    assert TILLEULS_EXDATE not in by_start and TILLEULS_MOVED_FROM not in by_start
    assert TILLEULS_MOVED_TO in by_start
    assert str(by_start[TILLEULS_CANCELLED]["STATUS"]) == "CANCELLED"
    attendee = master["ATTENDEE"][1]
    assert {"CN", "PARTSTAT", "ROLE"} <= set(attendee.params) and "ORGANIZER" in master


def test_the_single_meetings_cover_unknown_attendees_and_all_day_events(calendars):
    events = [event for calendar in calendars.values() for event in calendar.walk("VEVENT")]
    assert any(UNKNOWN_ATTENDEE in str(attendee) for event in events for attendee in event.get("ATTENDEE", []))
    [pose] = [event for event in events if str(event["UID"]) == LEMAIRE_POSE_UID]
    assert type(pose.decoded("DTSTART")) is date


def test_contacts_csv_is_an_excel_fr_export():
    raw = (DATA_DIR / "contacts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert tuple(rows[0].keys()) == HEADERS == ("nom", "prénom", "email", "société", "téléphone", "fonction",
                                                  "statut")
    assert 20 <= len(rows) <= 30
    by_email = {row["email"]: row for row in rows}
    first, second = (by_email[address] for address in DUPLICATE_PAIR)
    assert first["nom"].lower() == "lemaire" and "lemaire" in second["nom"].lower()
    assert {row["nom"] for row in (first, second)} != {first["nom"]}
    phones = [row["téléphone"] for row in rows if row["téléphone"]]
    assert any(phone.startswith("+33") for phone in phones) and any(re.fullmatch(r"0\d( \d\d){4}", p) for p in phones)
    assert "thomas.bernard.cdh@gmail.com" not in by_email  # a client who writes but is missing


# ---------------------------------------------------------------------------------------------- materialize


FRENCH_MONTHS = {"janvier": 1, "janv.": 1, "février": 2, "févr.": 2, "mars": 3, "avril": 4, "avr.": 4, "mai": 5,
                 "juin": 6, "juillet": 7, "juil.": 7, "août": 8, "septembre": 9, "sept.": 9, "octobre": 10,
                 "oct.": 10, "novembre": 11, "nov.": 11, "décembre": 12, "déc.": 12}


def _dates_in(text: str) -> list[date]:
    """Every date a reader sees in a text: 13/11/2026, 2026-11-13 10:15, (ven.) 13 nov. 2026, 13 novembre 2026."""
    found = []
    for match in re.finditer(r"(\d{2})/(\d{2})/(\d{4})|(\d{4})-(\d{2})-(\d{2}) \d\d:\d\d|\b(\d{1,2}) (\w+\.?) (\d{4})",
                             text):
        if match[1]:
            found.append(date(int(match[3]), int(match[2]), int(match[1])))
        elif match[4]:
            found.append(date(int(match[4]), int(match[5]), int(match[6])))
        elif match[8] in FRENCH_MONTHS:
            found.append(date(int(match[9]), FRENCH_MONTHS[match[8]], int(match[7])))
    return found


@pytest.mark.parametrize("now, weeks", [
    (datetime(2027, 2, 10, 9, 0, tzinfo=PARIS), 12),  # into February ("févr.", no summer time)
    (datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc), -24),  # back into summer time (+0200), "juin"
    (datetime(2027, 8, 20, 22, 30, tzinfo=PARIS), 39),  # "août"
])
def test_materialize_moves_every_date_by_whole_weeks(tmp_path, now, weeks):
    before = tree_digest(DATA_DIR)
    layout = materialize(tmp_path / "ws", now)
    assert tree_digest(DATA_DIR) == before
    assert layout.shift_weeks == weeks == weeks_to_shift(now)
    assert layout.anchor.isocalendar()[:2] == now.astimezone(PARIS).isocalendar()[:2]
    assert layout.anchor.weekday() == ANCHOR.weekday() and layout.anchor.hour == ANCHOR.hour
    source, copied = load_mails(DATA_DIR / "mail"), load_mails(layout.claire_maildir.parent)
    assert [mail.path.relative_to(DATA_DIR / "mail") for mail in source] == \
        [mail.path.relative_to(layout.root / "mail") for mail in copied]
    body_dates = 0
    for old, new in zip(source, copied):
        local_old, local_new = old.date.astimezone(PARIS), new.date.astimezone(PARIS)
        assert local_new.replace(tzinfo=None) - local_old.replace(tzinfo=None) == layout.shift, old.path
        received_at = int(MAILDIR_NAME.match(new.path.name)[1])
        stored_at = layout.shifted(datetime.fromtimestamp(received_at, PARIS))
        assert abs(new.path.stat().st_mtime - stored_at.timestamp()) < 1
        for part_old, part_new in zip(old.message.walk(), new.message.walk()):
            if part_old.get_content_maintype() == "text":
                dates_old, dates_new = (_dates_in(part.get_content()) for part in (part_old, part_new))
                assert dates_new == [day + layout.shift for day in dates_old], old.path
                body_dates += len(dates_old)
                if part_new["Content-Transfer-Encoding"] == "quoted-printable":  # still valid after the edit
                    encoded = part_new.get_payload(decode=False)
                    assert encoded.isascii() and max(map(len, encoded.splitlines())) <= 76, new.path
            elif part_old.get_content_maintype() not in ("multipart", "text"):
                assert part_old.get_payload(decode=True) == part_new.get_payload(decode=True)
    assert body_dates > 150
    for name in ("claire", "julien"):
        for folder in ("", ".Sent"):
            assert all((layout.mailboxes[name] / folder / sub).is_dir() for sub in ("cur", "new", "tmp"))
    series = icalendar.Calendar.from_ical((layout.calendar_dir / "tilleuls-point-hebdo.ics").read_bytes())
    moved = [event for event in series.walk("VEVENT") if "RECURRENCE-ID" in event]
    assert {event.decoded("RECURRENCE-ID") for event in moved} == \
        {layout.shifted(TILLEULS_MOVED_FROM), layout.shifted(TILLEULS_CANCELLED)}
    master = next(event for event in series.walk("VEVENT") if "RRULE" in event)
    assert master.decoded("EXDATE").dts[0].dt == layout.shifted(TILLEULS_EXDATE)
    assert layout.contacts_csv.read_bytes() == (DATA_DIR / "contacts.csv").read_bytes()


def test_materialize_in_the_anchor_week_copies_bytes_unchanged(tmp_path):
    layout = materialize(tmp_path / "ws", ANCHOR - timedelta(days=4))
    assert layout.shift_weeks == 0
    assert tree_digest(layout.root / "mail") == {key: value for key, value in tree_digest(DATA_DIR / "mail").items()}
    invitation = [mail for mail in load_mails(layout.root / "mail") if b"METHOD:REQUEST" in mail.raw]
    assert invitation and all(b"DTSTART;TZID=Europe/Paris:20261126T100000" in mail.raw for mail in invitation)


def test_materialize_refuses_to_overwrite_and_to_write_into_the_source(tmp_path):
    materialize(tmp_path / "ws", ANCHOR)
    with pytest.raises(UserError, match="already exists"):
        materialize(tmp_path / "ws", ANCHOR)
    materialize(tmp_path / "ws", ANCHOR + timedelta(weeks=1), overwrite=True)
    with pytest.raises(UserError, match="own source"):
        materialize(DATA_DIR / "workspace", ANCHOR)


def test_the_invitation_in_mail_moves_with_the_calendar(tmp_path):
    layout = materialize(tmp_path / "ws", ANCHOR + timedelta(weeks=5))
    calendar_event = icalendar.Calendar.from_ical((layout.calendar_dir / "mairie-mediatheque.ics")
                                                  .read_bytes()).walk("VEVENT")[0]
    [invitation, *_] = [mail for mail in load_mails(layout.root / "mail") if b"METHOD:REQUEST" in mail.raw]
    part = next(part for part in invitation.message.walk() if part.get_content_type() == "text/calendar")
    mailed_event = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    assert mailed_event.decoded("DTSTART") == calendar_event.decoded("DTSTART")
    assert mailed_event.decoded("DTSTART").date() > layout.anchor.date()


# ---------------------------------------------------------------------------------------------- determinism


def test_regenerating_writes_byte_identical_files(tmp_path):
    generate(tmp_path / "data")
    assert tree_digest(tmp_path / "data") == tree_digest(DATA_DIR)
