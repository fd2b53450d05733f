"""iCalendar and invitation builders for the meetings tests (text written by hand, the way calendar programs do)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

PARIS_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""

OWN = "claire@atelier-durand.fr"
CLIENT = "sophie@boulangerie-lemaire.fr"


def vevent(uid: str, start: str, end: str, *, summary: str = "Rendez-vous", organizer: str | None = OWN,
           attendees: tuple[tuple[str, str], ...] = ((CLIENT, "ACCEPTED"),), extra: str = "", sequence: int = 0,
           status: str = "CONFIRMED", recurrence_id: str | None = None, tz: str | None = "Europe/Paris",
           location: str = "Atelier") -> str:
    """One VEVENT; ``start``/``end`` as ``20261102T090000`` (local to ``tz``) or ``...Z`` or ``20261102`` (a date)."""

    def moment(name: str, value: str) -> str:
        if len(value) == 8:
            return f"{name};VALUE=DATE:{value}"
        if value.endswith("Z") or tz is None:
            return f"{name}:{value}"
        return f"{name};TZID={tz}:{value}"

    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261001T080000Z", moment("DTSTART", start), moment("DTEND", end),
             f"SUMMARY:{summary}", f"SEQUENCE:{sequence}", f"STATUS:{status}", f"LOCATION:{location}"]
    if recurrence_id:
        lines.append(moment("RECURRENCE-ID", recurrence_id))
    if organizer:
        lines.append(f"ORGANIZER;CN=Organisateur:mailto:{organizer}")
    for address, partstat in attendees:
        lines.append(f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT={partstat}:mailto:{address}")
    if extra:
        lines.extend(extra.strip().splitlines())
    lines.append("END:VEVENT")
    return "\n".join(lines)


def calendar(*events: str, method: str | None = None) -> bytes:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//crm-agent tests//FR"]
    if method:
        head.append(f"METHOD:{method}")
    text = "\n".join([*head, PARIS_VTIMEZONE, *events, "END:VCALENDAR", ""])
    return text.replace("\n", "\r\n").encode("utf-8")


def invitation_mail(ics: bytes, *, sender: str, to: str, subject: str, date: datetime, message_id: str) -> bytes:
    """An email carrying an iTIP part as Outlook sends it: text/plain + text/calendar; method=..."""
    methods = [line.split(":", 1)[1] for line in ics.decode().splitlines() if line.startswith("METHOD:")]
    method = methods[0] if methods else "PUBLISH"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date.astimezone(UTC))
    message["Message-ID"] = f"<{message_id}>"
    message.set_content("Veuillez trouver l'invitation ci-jointe.\n")
    message.add_alternative(ics.decode(), subtype="calendar", params={"method": method.strip()})
    return message.as_bytes()


def service_account(radicale, user: str, name: str = "agenda", **extra) -> dict:
    return {"name": name, "kind": "caldav", "url": radicale.user_url(user), "username": user,
            "password": radicale.users[user], **extra}
