"""What the demo sample contains and what crm-agent should make of it: the anchor, the quotes and the special cases.

The demo shows these lines ("what to expect"), the tests check the generated files against them. Every date here
is a sample date, anchored on ``ANCHOR``; ``materialize`` moves the files by whole weeks, so add
``SampleLayout.shift`` to compare with a workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from agent.demo.sample import ids
from agent.demo.sample.cast import (
    ANTOINE,
    ARTISANS_ROBOT,
    BANQUE_ROBOT,
    BERNARD,
    BOIS_FACTURES,
    BOIS_PROMO,
    CLAIRE,
    COLIS_ROBOT,
    CRECHE_BOX,
    ELODIE,
    ERIK,
    GERARD,
    ISABELLE,
    JULIEN,
    LAURENT,
    LETTRE_ROBOT,
    MAILER_DAEMON,
    MARC,
    NATHALIE,
    OLIVIER,
    PASCAL,
    SOPHIE,
    THOMAS,
    Person,
)
from agent.demo.sample.dates import PARIS, WEEKDAYS_ABBR, shift_wall_clock

ANCHOR = datetime(2026, 11, 20, 18, 0, tzinfo=PARIS)
"""Friday 20 November 2026, 18:00 Europe/Paris: "now" for the sample as generated."""
CONTACTS_EXPORTED_AT = datetime(2026, 11, 17, 9, 12, tzinfo=PARIS)
"""When contacts.csv was exported (its file mtime)."""


def message_id_of(key: str, sender: Person) -> str:
    """The Message-ID (no angle brackets) the sample gives the message scripted under ``key``."""
    return ids.message_id(key, sender.client, sender.domain)


def format_euros(amount: Decimal, separator: str = " ") -> str:
    """``Decimal("12450")`` -> ``12 450,00 €`` (French grouping; Outlook writes a no-break space)."""
    whole, cents = f"{amount:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{separator.join(groups)},{cents} €"


class QuoteOutcome(StrEnum):
    """What happened after a quote was sent, as the relance rule should see it at the anchor."""

    REPLIED = "replied"  # the client answered the sender the next day
    REPLIED_TO_COLLEAGUE = "replied-to-colleague"  # the only answer is in Julien's mailbox, not Claire's
    NO_REPLY = "no-reply"  # nothing came back: the relance fires
    AUTO_REPLY_ONLY = "auto-reply-only"  # only an out-of-office came back: it does not count, the relance fires
    PENDING = "pending"  # no answer yet, but 3 business days have not passed at the anchor


@dataclass(frozen=True, slots=True)
class QuoteCase:
    number: str  # "2026-042"
    key: str  # the scripted message's key
    title: str
    client: Person
    amount_ht: Decimal
    sent_at: datetime
    outcome: QuoteOutcome
    answered_by: tuple[tuple[str, Person], ...] = ()  # (key, sender) of the answers, auto-replies included
    thousands_separator: str = " "
    cc: tuple[Person, ...] = ()

    @property
    def message_id(self) -> str:
        return message_id_of(self.key, CLAIRE)

    @property
    def subject(self) -> str:
        return f"Devis n° {self.number} – {self.title}"

    @property
    def attachment(self) -> str:
        return f"Devis_{self.number}.pdf"

    @property
    def amount_text(self) -> str:
        """As written in the mail: ``Montant total : 12 450,00 € HT``."""
        return f"Montant total : {format_euros(self.amount_ht, self.thousands_separator)} HT"

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(message_id_of(key, sender) for key, sender in self.answered_by)

    @property
    def relance_due(self) -> bool:
        """Whether the demo relance rule (3 business days, no real reply) has fired by the anchor."""
        return self.outcome in (QuoteOutcome.NO_REPLY, QuoteOutcome.AUTO_REPLY_ONLY)


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS)


QUOTES: tuple[QuoteCase, ...] = (
    QuoteCase("2026-036", "tilleuls-devis", "Rénovation têtes de lit et placards (12 chambres)", ISABELLE,
              Decimal("41600.00"), _at("2026-10-15 17:35"), QuoteOutcome.REPLIED,
              (("tilleuls-devis-reponse", ISABELLE),), cc=(JULIEN,)),
    QuoteCase("2026-038", "lemaire-devis", "Agencement comptoir et vitrine", SOPHIE, Decimal("12450.00"),
              _at("2026-10-20 16:30"), QuoteOutcome.REPLIED, (("lemaire-devis-questions", SOPHIE),)),
    QuoteCase("2026-040", "creche-devis", "Casiers et meubles de rangement", CRECHE_BOX, Decimal("4215.50"),
              _at("2026-10-26 10:40"), QuoteOutcome.REPLIED, (("creche-devis-reponse", CRECHE_BOX),)),
    QuoteCase("2026-041", "rousseau-devis", "Bibliothèque et rangements du bureau", ANTOINE, Decimal("8960.00"),
              _at("2026-10-28 11:05"), QuoteOutcome.REPLIED_TO_COLLEAGUE, (("rousseau-devis-reponse", ANTOINE),),
              cc=(NATHALIE,)),
    QuoteCase("2026-042", "comptoir-devis", "Banquette et habillage du bar", THOMAS, Decimal("6380.00"),
              _at("2026-11-02 14:50"), QuoteOutcome.REPLIED, (("comptoir-devis-reponse", THOMAS),)),
    QuoteCase("2026-044", "acacias-devis", "Habillage des halls d'entrée", BERNARD, Decimal("18900.00"),
              _at("2026-11-12 15:40"), QuoteOutcome.NO_REPLY),
    QuoteCase("2026-045", "pharmacie-devis", "Mobilier d'officine", ELODIE, Decimal("23780.00"),
              _at("2026-11-13 11:20"), QuoteOutcome.AUTO_REPLY_ONLY, (("pharmacie-absence", ELODIE),),
              thousands_separator="\u00a0"),
    QuoteCase("2026-046", "faure-devis", "Agencement de l'agence (accueil et bureaux)", LAURENT, Decimal("14320.00"),
              _at("2026-11-16 10:05"), QuoteOutcome.NO_REPLY),
    QuoteCase("2026-047", "vasseur-devis", "Remplacement des présentoirs", OLIVIER, Decimal("3870.00"),
              _at("2026-11-19 16:10"), QuoteOutcome.PENDING, cc=(MARC,)),
)

QUOTE_BY_NUMBER = {quote.number: quote for quote in QUOTES}


@dataclass(frozen=True, slots=True)
class Expectation:
    """One line of "what to expect" in the demo, with the identifiers it is about."""

    case: str
    text: str
    message_ids: tuple[str, ...] = ()
    uids: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------- calendar cases


def _at_local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS)


MAIRIE_UID = ids.outlook_uid("mairie-mediatheque")
MAIRIE_MEETING_START = _at_local("2026-11-26 10:00")
TILLEULS_SERIES_UID = ids.outlook_uid("tilleuls-point-hebdo")
TILLEULS_SERIES_START = _at_local("2026-10-20 09:30")
TILLEULS_SERIES_END = _at_local("2026-12-08 09:30")  # the last occurrence (RRULE UNTIL)
TILLEULS_EXDATE = _at_local("2026-11-03 09:30")
TILLEULS_MOVED_FROM = _at_local("2026-11-17 09:30")
TILLEULS_MOVED_TO = _at_local("2026-11-18 14:00")
TILLEULS_CANCELLED = _at_local("2026-12-01 09:30")
ACACIAS_VISIT_UID = ids.thunderbird_uid("acacias-visite-halls")
UNKNOWN_ATTENDEE = "l.moreau@moreau-architecte.fr"
LEMAIRE_POSE_UID = ids.thunderbird_uid("lemaire-pose")
LEMAIRE_POSE_DAYS = (date(2026, 11, 30), date(2026, 12, 1))


# ---------------------------------------------------------------------------------------------- what to expect


def _ids(*pairs: tuple[str, Person]) -> tuple[str, ...]:
    return tuple(message_id_of(key, sender) for key, sender in pairs)


def _day(moment: date | datetime, weeks: int, with_time: bool = False) -> str:
    """A sample date as the workspace shows it: ``jeu. 12/11`` (+ `` 15:40``), moved by ``weeks``."""
    if isinstance(moment, datetime):
        moved = shift_wall_clock(moment, weeks)
        text = f"{WEEKDAYS_ABBR[moved.weekday()]} {moved:%d/%m}"
        return f"{text} {moved:%H:%M}" if with_time else text
    moved_day = moment + timedelta(weeks=weeks)
    return f"{WEEKDAYS_ABBR[moved_day.weekday()]} {moved_day:%d/%m}"


def _quote_lines(weeks: int) -> list[Expectation]:
    lines = []
    for quote in QUOTES:
        when = _day(quote.sent_at, weeks, with_time=True)
        text = {
            QuoteOutcome.REPLIED: f"answered by the client the next working day ({len(quote.answered_by)} reply): "
                                  "no relance",
            QuoteOutcome.REPLIED_TO_COLLEAGUE: "answered to Julien only (the reply sits in Julien's INBOX, the "
                                               "quote in Claire's Sent): no relance, one thread over two mailboxes",
            QuoteOutcome.NO_REPLY: "no reply at all: the relance task is due at the anchor",
            QuoteOutcome.AUTO_REPLY_ONLY: "only answer is an out-of-office (\"Réponse automatique : absence\", "
                                          "Auto-Submitted: auto-replied): it does not count, the relance is due",
            QuoteOutcome.PENDING: "no reply yet, sent the day before the anchor: the relance timer is armed, "
                                  "not due",
        }[quote.outcome]
        lines.append(Expectation(f"quote-{quote.outcome.value}",
                                 f"Devis {quote.number} to {quote.client.company.name if quote.client.company else ''}"
                                 f" ({quote.amount_text}, sent {when}): {text}",
                                 (quote.message_id, *quote.answer_ids)))
    return lines


def what_to_expect(shift_weeks: int = 0) -> tuple[Expectation, ...]:
    """The demo's "what to expect" lines, dates written as they read in a workspace moved by ``shift_weeks``."""
    return (*_quote_lines(shift_weeks), *_MAIL_LINES, *_calendar_lines(shift_weeks), *_CONTACT_LINES)


_MAIL_LINES: tuple[Expectation, ...] = (
    Expectation("cc-two-sightings", "Claire copied Julien on devis 2026-036: one interaction, two sightings "
                "(Claire's Sent and Julien's INBOX); the director's reply-all sits in both INBOXes",
                _ids(("tilleuls-devis", CLAIRE), ("tilleuls-devis-reponse", ISABELLE))),
    Expectation("order-form", "Boulangerie Lemaire sends a signed \"bon de commande\" (PDF attached): the "
                "company becomes a client", _ids(("lemaire-bon-de-commande", SOPHIE))),
    Expectation("prospect-first-contact", "Gérard Perrin (wanadoo.fr, unknown) writes to contact@atelier-durand.fr "
                "on the Wednesday evening: a new prospect; a free-mail domain makes no company; still unread",
                _ids(("sarment-premier-contact", GERARD))),
    Expectation("no-message-id", "The website's contact form mail has no Message-ID (identity falls back to a "
                "content hash) and a Reply-To naming the prospect (Clinique vétérinaire des Monts d'Or)"),
    Expectation("newsletters", "Newsletters with List-Id and List-Unsubscribe (La Lettre de l'Agencement, "
                "supplier promotions, Artisans du Rhône) are noise, not interactions",
                _ids(*((f"lettre-{n}", LETTRE_ROBOT) for n in range(212, 218)),
                     *((f"bois-promo-{n}", BOIS_PROMO) for n in range(3)),
                     *((f"artisans-{n}", ARTISANS_ROBOT) for n in range(2)))),
    Expectation("notifications", "Bank and parcel notifications (Auto-Submitted: auto-generated) are noise",
                _ids(("banque-releve-octobre", BANQUE_ROBOT), ("banque-prelevement-tva", BANQUE_ROBOT),
                     ("colis-suivi", COLIS_ROBOT))),
    Expectation("auto-replies", "Out-of-office answers in French (\"Absence du bureau\", \"Réponse automatique : "
                "absence\") and English (\"Automatic reply\") never count as replies",
                _ids(("rousseau-absence", NATHALIE), ("pharmacie-absence", ELODIE), ("nordic-absence", ERIK))),
    Expectation("bounce", "A typo in the hotel's domain bounces: a multipart/report DSN from MAILER-DAEMON "
                "(noise); Claire resends to the right address", _ids(("tilleuls-planning-dsn", MAILER_DAEMON),
                                                                     ("tilleuls-planning-typo", CLAIRE),
                                                                     ("tilleuls-planning", CLAIRE))),
    Expectation("internal-only", "Mail only between colleagues (Claire, Julien, Marc Durand) is internal",
                _ids(("interne-planning", CLAIRE), ("interne-chiffrage-rousseau", CLAIRE),
                     ("interne-conges", MARC), ("interne-point-pipeline", CLAIRE))),
    Expectation("supplier-invoice", "Bois & Négoce du Rhône's invoice F2026-10873 (PDF) from factures@, to Julien "
                "and compta@ (both land in Julien's INBOX: one file)", _ids(("bois-facture", BOIS_FACTURES))),
    Expectation("broken-charset", "Optique Vasseur's message declares UTF-8 but is Latin-1 (body and encoded "
                "subject): parsing repairs it with replacement characters", _ids(("vasseur-charniere", OLIVIER))),
    Expectation("forward", "Claire forwards Faure Immobilier's plan to Julien (\"Fwd:\", no In-Reply-To)",
                _ids(("faure-plans-transfert", CLAIRE))),
    Expectation("invitation", "Pascal Lefèvre's Outlook invitation (text/calendar; METHOD:REQUEST) reaches both "
                "INBOXes; its UID is the calendar's Mairie meeting, which Julien accepted (METHOD:REPLY in his Sent)",
                _ids(("mairie-invitation", PASCAL), ("mairie-acceptation", JULIEN)), (MAIRIE_UID,)),
)


def _calendar_lines(weeks: int) -> tuple[Expectation, ...]:
    return (
        Expectation("recurring-series", f"Weekly \"Point hebdo chantier – Hôtel Les Tilleuls\", Tuesdays 09:30 "
                    f"from {_day(TILLEULS_SERIES_START, weeks)} to {_day(TILLEULS_SERIES_END, weeks)} (8 weeks): "
                    f"{_day(TILLEULS_EXDATE, weeks)} removed (EXDATE), {_day(TILLEULS_MOVED_FROM, weeks)} moved to "
                    f"{_day(TILLEULS_MOVED_TO, weeks, True)} (RECURRENCE-ID), {_day(TILLEULS_CANCELLED, weeks)} "
                    "cancelled (override with STATUS:CANCELLED)", uids=(TILLEULS_SERIES_UID,)),
        Expectation("unknown-attendee", f"The visit of the Acacias halls has an attendee nobody has emailed "
                    f"({UNKNOWN_ATTENDEE}), in no contact", uids=(ACACIAS_VISIT_UID,)),
        Expectation("all-day", f"Pose at Boulangerie Lemaire: an all-day event over two days "
                    f"({_day(LEMAIRE_POSE_DAYS[0], weeks)} and {_day(LEMAIRE_POSE_DAYS[1], weeks)})",
                    uids=(LEMAIRE_POSE_UID,)),
    )


_CONTACT_LINES: tuple[Expectation, ...] = (
    Expectation("duplicate-contact", "contacts.csv lists Sophie Lemaire twice (\"Lemaire / Sophie\", "
                "sophie.lemaire@boulangerie-lemaire.fr and \"Sophie LEMAIRE\", s.lemaire@orange.fr, +33 phone): "
                "one person"),
    Expectation("missing-contacts", "People who write to us but are not in contacts.csv: Thomas Bernard (Gmail), "
                "the crèche's contact@, Gérard Perrin, Camille Roux; the roles contact@/compta@atelier-durand.fr "
                "are ours (Claire reads contact@, Julien compta@)"),
)


WHAT_TO_EXPECT: tuple[Expectation, ...] = what_to_expect(0)
