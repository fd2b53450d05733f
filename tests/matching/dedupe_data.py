"""Synthetic French-style contacts for the de-duplication tests: a crowd of distinct people, and corrupted copies.

Everything is drawn from a seeded ``random.Random`` so every run sees the same records.
"""

from __future__ import annotations

import random
from dataclasses import replace

from agent.matching.dedupe import ContactRecord

FIRST_NAMES = ["Jean", "Marie", "Pierre", "Hélène", "François", "Élodie", "Jean-Pierre", "Marie-Claire", "Luc",
    "Anne", "Sophie", "Nicolas", "Camille", "Julien", "Céline", "Thomas", "Chloé", "Mathieu", "Inès", "Benoît",
    "Aurélie", "Guillaume", "Léa", "Raphaël", "Margaux", "Étienne", "Zoé", "Jérôme", "Noémie", "Cédric", "Amélie",
    "Gaëlle", "Hugo", "Manon", "Lucas", "Emma", "Louis", "Jade", "Arthur", "Louise"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
    "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Le Gall",
    "Saint-Just", "de La Fontaine", "Nguyen", "Benali", "Perrin", "Clément", "Gauthier", "Chevalier", "Rousseau",
    "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Fabre", "Aubert", "Brunet", "Faure", "Masson"]
STREETS = ["rue de la Paix", "avenue Foch", "boulevard Haussmann", "rue Victor Hugo", "place de la République",
           "chemin des Vignes", "allée des Tilleuls", "rue du Moulin", "impasse des Lilas", "route de Lyon",
           "rue Pasteur", "rue Jean Jaurès", "avenue de la Gare", "rue des Écoles", "quai de la Loire"]
CITIES = [("75008", "Paris"), ("69003", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse"), ("44000", "Nantes"),
          ("33000", "Bordeaux"), ("59000", "Lille"), ("67000", "Strasbourg"), ("35000", "Rennes"), ("06000", "Nice")]
COMPANIES = ["Acme SARL", "Boulangerie Martin", "Transports Dubois SAS", "Société Générale", "Cabinet Leroy",
             "Garage du Centre", "Pharmacie de la Gare", "Menuiserie Petit EURL", "Agence Horizon", "Bio & Co SA"]
MAIL_DOMAINS = ["gmail.com", "orange.fr", "free.fr", "acme.fr", "horizon.fr", "laposte.net"]


def ascii_lower(text: str) -> str:
    from unidecode import unidecode

    return unidecode(text).lower().replace(" ", "").replace("-", "")


def crowd(n: int, seed: int = 1, first_id: int = 1000) -> list[ContactRecord]:
    """``n`` distinct people (no two share first and last name)."""
    rng = random.Random(seed)
    names = [(f, l) for f in FIRST_NAMES for l in LAST_NAMES]
    rng.shuffle(names)
    people = []
    for k, (first, last) in enumerate(names[:n]):
        postcode, city = rng.choice(CITIES)
        mobile = "06" + "".join(rng.choice("0123456789") for _ in range(8))
        email = f"{ascii_lower(first)}.{ascii_lower(last)}@{rng.choice(MAIL_DOMAINS)}"
        people.append(
            ContactRecord(first_id + k, first, last, (email,), (mobile,), rng.choice(COMPANIES),
                          f"{rng.randint(1, 120)} {rng.choice(STREETS)}", postcode, city)
        )
    return people


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def corrupt(rng: random.Random, person: ContactRecord, new_id: int) -> ContactRecord:
    """A second record of the same person as another user might type it: 2 of the usual variations."""
    record = replace(person, id=new_id)
    variations = rng.sample(["swap", "accents", "case", "typo_last", "typo_first", "no_email", "no_phone",
                             "phone_format", "street_abbrev", "no_street", "initial"], 2)
    for variation in variations:
        if variation == "swap":
            record = replace(record, first_name=record.last_name, last_name=record.first_name)
        elif variation == "accents":
            from unidecode import unidecode

            record = replace(record, first_name=unidecode(record.first_name), last_name=unidecode(record.last_name))
        elif variation == "case":
            record = replace(record, last_name=record.last_name.upper(), city=record.city.upper())
        elif variation == "typo_last":
            record = replace(record, last_name=_typo(rng, record.last_name))
        elif variation == "typo_first":
            record = replace(record, first_name=_typo(rng, record.first_name))
        elif variation == "no_email":
            record = replace(record, emails=())
        elif variation == "no_phone":
            record = replace(record, phones=())
        elif variation == "phone_format":
            record = replace(record, phones=tuple("+33 " + p[1:2] + " " + p[2:] for p in record.phones))
        elif variation == "street_abbrev":
            record = replace(record, street=record.street.replace("rue", "r.").replace("avenue", "av."))
        elif variation == "no_street":
            record = replace(record, street="")
        elif variation == "initial":
            record = replace(record, first_name=record.first_name[0] + ".")
    return record


def namesake(rng: random.Random, person: ContactRecord, new_id: int) -> ContactRecord:
    """Another person with the same name: own email, phone, address (the hard negatives of a CRM)."""
    other = crowd(1, seed=rng.randrange(10**6), first_id=new_id)[0]
    return replace(other, first_name=person.first_name, last_name=person.last_name,
                   emails=(f"{ascii_lower(person.first_name)}{rng.randint(1, 99)}@{rng.choice(MAIL_DOMAINS)}",))


def with_duplicates(
    n_people: int, n_duplicated: int, seed: int = 3, n_namesakes: int = 0
) -> tuple[list[ContactRecord], set[tuple[int, int]]]:
    """A crowd, one corrupted copy of ``n_duplicated`` of them and ``n_namesakes`` namesakes; records, true pairs."""
    rng = random.Random(seed)
    people = crowd(n_people, seed=seed)
    extra = []
    truth = set()
    for k, person in enumerate(rng.sample(people, n_duplicated)):
        copy = corrupt(rng, person, 5000 + k)
        extra.append(copy)
        truth.add((person.id, copy.id))
    for k, person in enumerate(rng.sample(people, n_namesakes)):
        extra.append(namesake(rng, person, 8000 + k))
    return people + extra, truth
