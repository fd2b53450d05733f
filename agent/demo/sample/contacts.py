"""The contacts export of the demo sample, as Excel (French) writes "CSV UTF-8": BOM, semicolons, CRLF.

It is deliberately imperfect, like a real one: some clients who write to us are missing, one person appears twice
(``Lemaire / Sophie`` and ``Sophie LEMAIRE`` with a second address and her phone in +33 form), one row has no
email, phones come in several French spellings.
"""

from __future__ import annotations

import csv
import io

from agent.demo.sample.cast import (
    ANTOINE,
    BERNARD,
    ELODIE,
    ELUE,
    ERIK,
    ISABELLE,
    LAURENT,
    NATHALIE,
    OLIVIER,
    PASCAL,
    PATRICK,
    RIVIERE,
    SOPHIE,
    VALERIE,
    Person,
)

HEADERS = ("nom", "prénom", "email", "société", "téléphone", "fonction", "statut")
DUPLICATE_PAIR = ("sophie.lemaire@boulangerie-lemaire.fr", "s.lemaire@orange.fr")


def _row(person: Person, status: str, phone: str | None = None, company: str | None = None) -> tuple[str, ...]:
    return (person.last_name, person.first_name, person.address,
            company if company is not None else (person.company.name if person.company else ""),
            person.phone if phone is None else phone, person.function, status)


ROWS: tuple[tuple[str, ...], ...] = (
    _row(ISABELLE, "client"),
    ("Noël", "Chloé", "c.noel@hotel-les-tilleuls.fr", "Hôtel Les Tilleuls", "04 65 71 33 00",
     "Gouvernante générale", "client"),
    ("", "", "compta@hotel-les-tilleuls.fr", "Hôtel Les Tilleuls", "", "Comptabilité", "client"),
    _row(SOPHIE, "prospect"),
    ("Sophie LEMAIRE", "", "s.lemaire@orange.fr", "Boulangerie LEMAIRE", "+33 6 39 98 41 27", "", "prospect"),
    _row(ANTOINE, "prospect"),
    _row(NATHALIE, "prospect"),
    _row(BERNARD, "prospect"),
    _row(ELODIE, "prospect", phone="04.65.71.81.26"),
    _row(LAURENT, "prospect", phone="+33 (0)4 65 71 90 12"),
    _row(OLIVIER, "client"),
    _row(PASCAL, "prospect"),
    _row(ELUE, "prospect"),
    ("Morel", "Aurélie", "", "Crèche associative Les P'tits Loups", "04 65 71 62 40", "Directrice", "prospect"),
    ("Lambert", "Hélène", "secretariat@cabinet-dentaire-lambert.fr", "Cabinet dentaire Lambert",
     "04 65 71 55 19", "Chirurgien-dentiste", "client"),
    ("Blanc", "Josiane", "josiane.blanc@gmail.com", "", "06 39 98 11 02", "", "particulier"),
    _row(VALERIE, "partenaire"),
    ("", "", "compta@mercier-expertise.fr", "Mercier Expertise Comptable", "", "Pôle comptabilité", "partenaire"),
    ("Aubert", "François", "f.aubert@aubert-assurances.fr", "Cabinet Aubert Assurances", "04 65 71 12 88",
     "Courtier", "partenaire"),
    _row(PATRICK, "fournisseur"),
    ("", "", "factures@bois-negoce-rhone.fr", "Bois & Négoce du Rhône", "", "Facturation", "fournisseur"),
    ("", "", "commandes@qra-pro.fr", "Quincaillerie Rhône-Alpes Pro", "04 65 71 68 00", "Service commandes",
     "fournisseur"),
    _row(RIVIERE, "fournisseur"),
    _row(ERIK, "fournisseur", phone="+46 36 12 34 56"),
    ("Fabre", "Jean-Pierre", "jp.fabre@wanadoo.fr", "Menuiserie Fabre", "04 65 71 02 93", "Sous-traitant pose",
     "fournisseur"),
)


def contacts_csv() -> bytes:
    """The file's bytes: UTF-8 with BOM, ``;`` separated, CRLF line ends, minimal quoting."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADERS)
    writer.writerows(ROWS)
    return buffer.getvalue().encode("utf-8-sig")
