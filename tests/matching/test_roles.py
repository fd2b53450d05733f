"""Mailbox kinds: people, role mailboxes (linked to the company) and automated senders (noise)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.matching.roles import ROLE_WORDS, ROLE_WORDS_ALONE, address_kind, local_part_segments

ROLE = [
    "contact@acme.fr", "Contact@ACME.fr", "contact2@acme.fr", "contact.lyon@acme.fr", "contact-pro@acme.fr",
    "info@acme.fr", "infos@acme.fr", "info-paris@acme.fr", "commercial@acme.fr", "devis@acme.fr",
    "compta@acme.fr", "comptabilite@acme.fr", "comptabilité@acme.fr", "facturation@acme.fr", "factures@acme.fr",
    "direction@acme.fr", "accueil@acme.fr", "secretariat@acme.fr", "secrétariat@acme.fr", "sales@acme.com",
    "support@acme.com", "admin@acme.fr", "rh@acme.fr", "recrutement@acme.fr", "achats@acme.fr",
    "service-client@acme.fr", "service.client@acme.fr", "serviceclient@acme.fr", "Service_Clients@acme.fr",
    "service.juridique@acme.fr", "bonjour@acme.fr", "hello@acme.io", "office@acme.at", "sav@acme.fr",
    "equipe@acme.fr", "billing@acme.com", "careers@acme.com", "jobs01@acme.com", "Accueil <accueil@acme.fr>",
    "legal@acme.com", "bureau@acme.fr", "contact+site@acme.fr",
]
AUTOMATED = [
    "noreply@acme.fr", "no-reply@acme.fr", "no_reply@acme.fr", "NoReply@acme.fr", "ne-pas-repondre@sncf.fr",
    "nepasrepondre@impots.gouv.fr", "ne_pas_répondre@acme.fr", "ne-reponds-pas@acme.fr",
    "ne-repondez-pas@acme.fr", "donotreply@acme.com", "do-not-reply@acme.com", "dont-reply@acme.com",
    "MAILER-DAEMON@mx.acme.fr", "postmaster@acme.fr", "bounce@acme.fr", "bounces+12345-ab@sendgrid.net",
    "bounce-mc.us5_1234.567-jean=acme.fr@mcsv.net", "msprvs1=19012abc=bounces-1234@bounces.acme.com",
    "notifications@github.com", "notification@acme.fr", "calendar-notification@google.com",
    "alerts@acme.com", "alertes.securite@banque.fr", "newsletter@acme.fr", "newsletter-fr@acme.fr",
    "noreply-dmarc-support@google.com", "factures-noreply@acme.fr", "no-reply2@acme.fr", "root@acme.fr",
    "autoreply@acme.fr", "invitations@linkedin.com",
]
PERSON = [
    "jean.dupont@acme.fr", "Jean <jean@acme.fr>", "jdupont@acme.fr", "marie.compta@acme.fr",  # role word later
    "legal.jean@acme.fr",  # "Legal" is also a surname: a role word only alone
    "bureau.michel@acme.fr", "alice+crm@gmail.com", "francois-xavier.de-la-tour@acme.fr", "j2@acme.fr",
    "contactez-moi", "informaticienne@acme.fr", "roberta@acme.fr", "norbert@acme.fr", "alexandre@acme.fr",
    "", "@acme.fr", "123@acme.fr", "andré.noël@acme.fr",
]


@pytest.mark.parametrize("address", ROLE)
def test_role_mailboxes(address: str) -> None:
    assert address_kind(address) == "role"


@pytest.mark.parametrize("address", AUTOMATED)
def test_automated_senders(address: str) -> None:
    assert address_kind(address) == "automated"


@pytest.mark.parametrize("address", PERSON)
def test_people(address: str) -> None:
    assert address_kind(address) == "person"


def test_automated_wins_over_role() -> None:
    assert address_kind("contact-noreply@acme.fr") == "automated"
    assert address_kind("noreply.support@acme.fr") == "automated"


@pytest.mark.parametrize(
    ("local", "segments"),
    [
        ("Service.Client2+x", ("service", "client")),
        ("ne-pas_répondre", ("ne", "pas", "repondre")),
        ("jean..dupont", ("jean", "dupont")),
        ("2024", ()),
        ("+tag", ()),
    ],
)
def test_local_part_segments(local: str, segments: tuple[str, ...]) -> None:
    assert local_part_segments(local) == segments


def test_role_word_lists_are_in_key_form() -> None:
    """The key has no separators, accents, digits or capitals: a word spelled otherwise could never match."""
    for word in ROLE_WORDS | ROLE_WORDS_ALONE:
        assert word.isascii() and word.isalpha() and word == word.lower(), word
    assert not ROLE_WORDS & ROLE_WORDS_ALONE


@given(st.text(max_size=50))
def test_address_kind_never_raises(text: str) -> None:
    assert address_kind(text) in {"person", "role", "automated"}
