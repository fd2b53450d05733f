"""The demo calendar (Julien Petit's agenda) as iCalendar: one series per .ics file, plus the emailed invitation.

Written with the ``icalendar`` library; every object carries the Europe/Paris VTIMEZONE. The Mairie's meeting
exists twice with one UID: as the METHOD:REQUEST part of Pascal Lefèvre's invitation email, and in the calendar
once Julien accepted it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vRecur

from agent.demo.sample import ids
from agent.demo.sample.cast import (
    ANTOINE,
    BERNARD,
    CLAIRE,
    ELODIE,
    ELUE,
    ISABELLE,
    JULIEN,
    MOREAU,
    PASCAL,
    PATRICK,
    THOMAS,
    VALERIE,
    Person,
)
from agent.demo.sample.dates import PARIS
from agent.demo.sample.expectations import (
    ACACIAS_VISIT_UID,
    LEMAIRE_POSE_DAYS,
    LEMAIRE_POSE_UID,
    MAIRIE_MEETING_START,
    MAIRIE_UID,
    TILLEULS_CANCELLED,
    TILLEULS_EXDATE,
    TILLEULS_MOVED_FROM,
    TILLEULS_MOVED_TO,
    TILLEULS_SERIES_END,
    TILLEULS_SERIES_START,
    TILLEULS_SERIES_UID,
)

MOZILLA = "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN"
OUTLOOK = "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN"
EXCHANGE = "Microsoft Exchange Server 2019"


def local(text: str) -> datetime:
    """``"2026-11-26 10:00"`` in Europe/Paris."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS)


@dataclass(frozen=True, slots=True)
class Seat:
    """An attendee line: who, in which role, having answered what."""

    person: Person
    role: str = "REQ-PARTICIPANT"
    partstat: str = "ACCEPTED"


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.address}")
    address.params["CN"] = person.name
    for name, value in params.items():
        address.params[name.replace("_", "-").upper()] = value
    return address


def paris_timezone() -> Timezone:
    """The VTIMEZONE Thunderbird and Outlook write for Europe/Paris."""
    zone = Timezone()
    zone.add("tzid", "Europe/Paris")
    summer = TimezoneDaylight()
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("tzname", "CEST")
    summer.add("dtstart", datetime(1970, 3, 29, 2, 0))
    summer.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    winter = TimezoneStandard()
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("tzname", "CET")
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0))
    winter.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def _event(uid: str, summary: str, start: datetime | date, end: datetime | date, stamp: datetime, *,
           location: str = "", description: str = "", organizer: Person | None = None, seats: Iterable[Seat] = (),
           sequence: int = 0, status: str = "CONFIRMED", rsvp: bool = False) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("created", stamp.astimezone(timezone.utc))
    event.add("last-modified", stamp.astimezone(timezone.utc))
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", sequence)
    event.add("status", status)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    if organizer is not None:
        event.add("organizer", _address(organizer))
    for seat in seats:
        params = {"role": seat.role, "partstat": seat.partstat, "cutype": "INDIVIDUAL"}
        if rsvp:
            params["rsvp"] = "TRUE"
        event.add("attendee", _address(seat.person, **params))
    return event


def _calendar(product: str, *events: Event, method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", product)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    calendar.add_component(paris_timezone())
    for event in events:
        calendar.add_component(event)
    return calendar


# ---------------------------------------------------------------------------------------------- the events

_TILLEULS_PLACE = "Hôtel Les Tilleuls, 4 place des Tilleuls, 69005 Lyon"
_TILLEULS_SEATS = (Seat(JULIEN, "CHAIR"), Seat(ISABELLE), Seat(CLAIRE, "OPT-PARTICIPANT", "TENTATIVE"))
_MAIRIE_SUMMARY = "Réunion – Aménagement de la médiathèque"
_MAIRIE_LENGTH = timedelta(minutes=90)
_MAIRIE_PLACE = "Mairie de Saint-Clément – salle du conseil"
_MAIRIE_DESCRIPTION = ("Présentation du projet d'aménagement de la médiathèque (banque d'accueil, rayonnages, "
                       "coin lecture enfants) et visite des locaux.\nMerci de confirmer votre présence.")


def _tilleuls_series() -> Calendar:
    stamp = local("2026-10-16 11:46")
    master = _event(TILLEULS_SERIES_UID, "Point hebdo chantier – Hôtel Les Tilleuls", TILLEULS_SERIES_START,
                    TILLEULS_SERIES_START + timedelta(hours=1), stamp, location=_TILLEULS_PLACE, organizer=JULIEN,
                    seats=_TILLEULS_SEATS, sequence=1,
                    description="Point d'avancement hebdomadaire : rénovation des 12 chambres (devis 2026-036).")
    master.add("rrule", vRecur(freq="WEEKLY", until=TILLEULS_SERIES_END.astimezone(timezone.utc)))
    master.add("exdate", TILLEULS_EXDATE)
    moved = _event(TILLEULS_SERIES_UID, "Point hebdo chantier – Hôtel Les Tilleuls (décalé)", TILLEULS_MOVED_TO,
                   TILLEULS_MOVED_TO + timedelta(hours=1), local("2026-11-10 16:05"), location=_TILLEULS_PLACE,
                   organizer=JULIEN, seats=_TILLEULS_SEATS, sequence=2)
    moved.add("recurrence-id", TILLEULS_MOVED_FROM)
    cancelled = _event(TILLEULS_SERIES_UID, "Point hebdo chantier – Hôtel Les Tilleuls", TILLEULS_CANCELLED,
                       TILLEULS_CANCELLED + timedelta(hours=1), local("2026-11-19 17:20"), location=_TILLEULS_PLACE,
                       organizer=JULIEN, seats=_TILLEULS_SEATS, sequence=2, status="CANCELLED")
    cancelled.add("recurrence-id", TILLEULS_CANCELLED)
    return _calendar(OUTLOOK, master, moved, cancelled)


def mairie_event(*, invitation: bool) -> Event:
    """The Mairie's meeting: as invited (everybody NEEDS-ACTION) or as it sits in Julien's calendar."""
    seats = (Seat(JULIEN, partstat="NEEDS-ACTION" if invitation else "ACCEPTED"),
             Seat(CLAIRE, "OPT-PARTICIPANT", "NEEDS-ACTION"), Seat(ELUE))
    stamp = local("2026-11-17 09:12") if invitation else local("2026-11-17 11:03")
    return _event(MAIRIE_UID, _MAIRIE_SUMMARY, MAIRIE_MEETING_START, MAIRIE_MEETING_START + _MAIRIE_LENGTH, stamp,
                  location=_MAIRIE_PLACE, description=_MAIRIE_DESCRIPTION, organizer=PASCAL, seats=seats,
                  rsvp=invitation)


def invitation_ics() -> str:
    """The text/calendar part of Pascal Lefèvre's invitation email (iTIP REQUEST)."""
    return _calendar(EXCHANGE, mairie_event(invitation=True), method="REQUEST").to_ical().decode()


def acceptance_ics() -> str:
    """Julien's answer (iTIP REPLY): only his own attendee line, ACCEPTED."""
    event = _event(MAIRIE_UID, _MAIRIE_SUMMARY, MAIRIE_MEETING_START, MAIRIE_MEETING_START + _MAIRIE_LENGTH,
                   local("2026-11-17 11:03"), location=_MAIRIE_PLACE, organizer=PASCAL, seats=(Seat(JULIEN),))
    return _calendar(OUTLOOK, event, method="REPLY").to_ical().decode()


def calendar_files() -> dict[str, bytes]:
    """File name -> bytes of every .ics object of Julien's calendar."""
    single = {
        "rousseau-prise-de-cotes": _calendar(OUTLOOK, _event(
            ids.outlook_uid("rousseau-prise-de-cotes"), "Prise de cotes – Cabinet Rousseau Avocats",
            local("2026-10-21 10:00"), local("2026-10-21 11:00"), local("2026-10-19 15:12"),
            location="27 quai Saint-Vincent, 69001 Lyon", organizer=JULIEN,
            seats=(Seat(JULIEN, "CHAIR"), Seat(ANTOINE)))),
        "bois-negoce-rendez-vous": _calendar(OUTLOOK, _event(
            ids.outlook_uid("bois-rdv"), "Rendez-vous fournisseur – Bois & Négoce du Rhône", local("2026-10-16 11:00"),
            local("2026-10-16 12:00"), local("2026-10-12 09:40"), location="ZI Nord, 69140 Rillieux-la-Pape",
            organizer=JULIEN, seats=(Seat(JULIEN, "CHAIR"), Seat(PATRICK)))),
        "comptoir-dejeuner": _calendar(MOZILLA, _event(
            ids.thunderbird_uid("comptoir-dejeuner"), "Déjeuner – Thomas Bernard (Le Comptoir des Halles)",
            local("2026-10-28 12:30"), local("2026-10-28 14:00"), local("2026-10-23 10:02"),
            location="Le Comptoir des Halles, Lyon 3e", organizer=CLAIRE,
            seats=(Seat(CLAIRE, "CHAIR"), Seat(THOMAS), Seat(JULIEN, "OPT-PARTICIPANT", "DECLINED")))),
        "acacias-visite-halls": _calendar(MOZILLA, _event(
            ACACIAS_VISIT_UID, "Visite des halls – Résidence Les Acacias", local("2026-11-05 14:00"),
            local("2026-11-05 15:30"), local("2026-10-30 09:30"), location="Résidence Les Acacias, 69008 Lyon",
            organizer=JULIEN, seats=(Seat(JULIEN, "CHAIR"), Seat(BERNARD), Seat(MOREAU, partstat="NEEDS-ACTION")),
            description="Visite avec l'architecte de la copropriété (M. Moreau).")),
        "pharmacie-releve-de-cotes": _calendar(OUTLOOK, _event(
            ids.outlook_uid("pharmacie-releve"), "Relevé de cotes – Pharmacie du Parc", local("2026-11-06 08:30"),
            local("2026-11-06 09:30"), local("2026-11-04 14:20"), location="3 avenue du Parc, 69006 Lyon",
            organizer=JULIEN, seats=(Seat(JULIEN, "CHAIR"), Seat(ELODIE)))),
        "lemaire-pose": _calendar(MOZILLA, _event(
            LEMAIRE_POSE_UID, "Pose comptoir et vitrine – Boulangerie Lemaire", LEMAIRE_POSE_DAYS[0],
            LEMAIRE_POSE_DAYS[-1] + timedelta(days=1), local("2026-11-09 08:15"),
            location="18 rue Saint-Georges, 69005 Lyon",
            description="Pose sur deux jours, boulangerie fermée. Équipe : Julien + 2 poseurs.")),
        "mairie-mediatheque": _calendar(EXCHANGE, mairie_event(invitation=False)),
        "point-commercial": _calendar(MOZILLA, _event(
            ids.thunderbird_uid("point-commercial"), "Point commercial – relances de la semaine",
            local("2026-11-23 08:30"), local("2026-11-23 09:00"), local("2026-11-19 17:40"),
            location="Atelier", organizer=CLAIRE, seats=(Seat(CLAIRE, "CHAIR"), Seat(JULIEN)))),
        "mercier-bilan": _calendar(OUTLOOK, _event(
            ids.outlook_uid("mercier-bilan"), "Bilan intermédiaire – Mercier Expertise Comptable",
            local("2026-12-03 14:00"), local("2026-12-03 15:00"), local("2026-11-19 10:05"),
            location="Visioconférence", organizer=VALERIE,
            seats=(Seat(VALERIE, "CHAIR"), Seat(JULIEN), Seat(CLAIRE, "OPT-PARTICIPANT", "TENTATIVE")))),
    }
    files = {f"{name}.ics": calendar.to_ical() for name, calendar in single.items()}
    files["tilleuls-point-hebdo.ics"] = _tilleuls_series().to_ical()
    return dict(sorted(files.items()))
