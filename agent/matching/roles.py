"""Mailbox kinds: tells a person's address from a role mailbox (``contact@``) and from a machine (``noreply@``).

Role mailboxes are real company addresses for French SMEs: the pipeline links them to the company, not to a
person (DESIGN §4). Automated senders are noise. The verdict reads only the local part, prepared so spelling
variants agree (``Ne-Pas-Repondre``, ``ne_pas_repondre2``, ``nepasrépondre+x`` are one word):

1. lowercase; a ``+tag`` is dropped; accents are transliterated (``comptabilité`` -> ``comptabilite``);
2. the local part is cut into *segments* at ``.``, ``-``, ``_`` (and ``=``, used by bounce schemes), and trailing
   digits are removed from each segment (``contact2``, ``sales01``); the *key* is the segments joined.

``automated`` when the key *contains* an unambiguous machine word (``noreply``, ``donotreply``, ``nepasrepondre``,
``mailerdaemon``, ``bounce`` …), *starts with* a machine prefix (``notification``, ``alert``, ``newsletter`` …),
or *is* a system account (``postmaster``, ``root``, ``nobody`` …).
``role`` when the key *is* a role word (``contact``, ``serviceclient``), or the *first* segment is one
(``contact.lyon``, ``info-paris``, ``service.juridique``), except words that are also surnames (``legal``,
``bureau``, ``courrier``), which count only alone. A role word later on (``marie.compta``) is a person's own
mailbox, so it stays ``person``, as does everything else.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from unidecode import unidecode

AddressKind = Literal["person", "role", "automated"]

# Matched anywhere in the key: no person's mailbox contains these.
AUTOMATED_ANYWHERE: tuple[str, ...] = (
    "noreply", "donotreply", "dontreply", "nepasrepondre", "nepasrepondez", "nerepondezpas", "nerepondspas",
    "nereponspas", "mailerdaemon", "bounce", "postmaster", "notification", "newsletter",
)
# Matched at the start of the key: "notifs", "alertes-securite", "autoreply-fr".
AUTOMATED_PREFIXES: tuple[str, ...] = (
    "notif", "notify", "alert", "automailer", "autoreply", "autorespon", "listserv", "majordomo", "mailbot",
)
# The whole key: system accounts and robots.
AUTOMATED_KEYS: frozenset[str] = frozenset(
    {"root", "nobody", "daemon", "mailer", "cron", "wwwdata", "apache", "robot", "bot", "system", "auto",
     "automatique", "news", "digest", "calendar", "invitations", "updates", "reminder", "reminders", "rappel"}
)

ROLE_WORDS: frozenset[str] = frozenset(
    {
        # general contact, FR and EN
        "contact", "contacts", "info", "infos", "information", "informations", "bonjour", "hello", "hi",
        "accueil", "reception", "standard", "office", "enquiries", "enquiry",
        "inquiries", "inquiry", "question", "questions", "welcome",
        # sales and customers
        "commercial", "commerciale", "commerce", "ventes", "vente", "sales", "devis", "quote", "quotes",
        "commande", "commandes", "order", "orders", "client", "clients", "serviceclient", "serviceclients",
        "customerservice", "customercare", "customers", "relationclient", "sav", "boutique", "shop", "magasin",
        "reservation", "reservations", "booking", "bookings", "export",
        # money
        "compta", "comptabilite", "accounting", "accounts", "facturation", "facture", "factures", "invoice",
        "invoices", "billing", "finance", "finances", "tresorerie", "paie", "payroll", "payment", "payments",
        "paiement", "paiements", "recouvrement",
        # management and administration
        "direction", "directiongenerale", "secretariat", "secretary", "admin", "administration", "administratif",
        "gestion", "juridique", "dpo", "rgpd", "gdpr", "privacy", "qualite", "quality", "securite",
        "security", "abuse",
        # people
        "rh", "hr", "recrutement", "recruitment", "recrutements", "jobs", "job", "careers", "carrieres", "emploi",
        "candidature", "candidatures", "stage", "stages",
        # purchasing and logistics
        "achats", "achat", "purchasing", "procurement", "fournisseurs", "suppliers", "logistique", "logistics",
        "expedition", "expeditions", "shipping", "livraison", "livraisons", "atelier", "production", "planning",
        # communication and IT
        "marketing", "communication", "com", "presse", "press", "media", "medias", "partenariat", "partenariats",
        "partners", "webmaster", "web", "it", "informatique", "tech", "technique", "helpdesk", "hotline",
        "assistance", "support", "help", "aide",
        # teams and places
        "service", "equipe", "team", "agence", "cabinet", "etude", "mairie", "ecole", "scolarite",
    }
)
# Role words only when they are the whole key: as a first segment they are also surnames ("legal.jean@").
ROLE_WORDS_ALONE: frozenset[str] = frozenset({"legal", "bureau", "courrier", "mail", "salut"})

_PLUS_TAG = re.compile(r"\+.*")
_SEPARATORS = re.compile(r"[._=-]+")
_TRAILING_DIGITS = re.compile(r"\d+$")


def local_part_segments(local: str) -> tuple[str, ...]:
    """``'Service.Client2+x'`` -> ``('service', 'client')``: the local part as the kind rules read it."""
    text = _PLUS_TAG.sub("", local.lower())
    if not text.isascii():
        text = unidecode(text).lower()
    segments = (_TRAILING_DIGITS.sub("", segment) for segment in _SEPARATORS.split(text))
    return tuple(segment for segment in segments if segment)


@lru_cache(maxsize=1 << 16)
def local_part_kind(local: str) -> AddressKind:
    """The kind of a local part alone (see the module docstring for the rules)."""
    segments = local_part_segments(local)
    key = "".join(segments)
    if not key:
        return "person"
    if key in AUTOMATED_KEYS or key.startswith(AUTOMATED_PREFIXES) or any(w in key for w in AUTOMATED_ANYWHERE):
        return "automated"
    if key in ROLE_WORDS or key in ROLE_WORDS_ALONE or segments[0] in ROLE_WORDS:
        return "role"
    return "person"


def address_kind(address: str) -> AddressKind:
    """``'contact@acme.fr'`` -> ``'role'``, ``'ne-pas-repondre@sncf.fr'`` -> ``'automated'``, else ``'person'``.

    Reads the local part, before the last ``@``; text that is not an address is read as a local part.
    """
    if not isinstance(address, str):
        return "person"
    text = address.strip()
    if "<" in text:  # a display name around the address
        text = text[text.rfind("<") + 1 :].partition(">")[0]
    return local_part_kind(text.rpartition("@")[0] if "@" in text else text)
