"""Canonical forms used by de-duplication: company names, name keys, phones, domains, streets."""

from __future__ import annotations

import pytest

from agent.matching.dedupe import name_key, normalize_company_name
from agent.matching.dedupe.normalize import (
    company_domain_of,
    fold,
    normalize_domain,
    normalize_phone,
    normalize_postcode,
    split_street,
)


@pytest.mark.parametrize(
    "raw",
    ["Société Générale", "SOCIETE GENERALE SA", "Société Générale S.A.", "SA Société Générale",
     "societe  generale"],
)
def test_societe_generale_spellings_share_one_form(raw: str) -> None:
    assert normalize_company_name(raw) == "societe generale"


@pytest.mark.parametrize("form", ["SARL", "SAS", "SA", "EURL", "SASU", "SCI", "SNC", "S.A.R.L.", "S.A.S.", "sarl"])
def test_legal_forms_are_stripped_before_or_after_the_name(form: str) -> None:
    assert normalize_company_name(f"Boulangerie Martin {form}") == "boulangerie martin"
    assert normalize_company_name(f"{form} Boulangerie Martin") == "boulangerie martin"


def test_legal_form_inside_a_name_is_kept() -> None:
    assert normalize_company_name("Martin SA Conseil") == "martin sa conseil"


def test_name_made_only_of_a_legal_form_is_not_emptied() -> None:
    assert normalize_company_name("SAS") == "sas"


def test_ampersand_reads_as_et() -> None:
    assert normalize_company_name("Dupont & Fils") == normalize_company_name("DUPONT ET FILS SARL") == "dupont et fils"


@pytest.mark.parametrize("raw", [None, "", "   ", "---"])
def test_empty_company_names_give_empty_form(raw: str | None) -> None:
    assert normalize_company_name(raw) == ""


def test_name_key_ignores_order_accents_case_and_hyphens() -> None:
    expected = "dupont jean pierre"
    assert name_key("Jean-Pierre", "DUPONT") == expected
    assert name_key("DUPONT", "Jean Pierre") == expected
    assert name_key("jean pierre", "Dupont") == expected
    assert name_key("Hélène", "Lefèvre") == name_key("LEFEVRE", "helene") == "helene lefevre"


def test_name_key_of_missing_parts() -> None:
    assert name_key("", "Martin") == "martin"
    assert name_key(None, None) == ""


def test_fold_keeps_words_and_drops_punctuation() -> None:
    assert fold(" Jean-Pierre  L'Hôte ") == "jean pierre l hote"
    assert fold("Øre Ærø") == "ore aero"


@pytest.mark.parametrize("raw", ["06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678"])
def test_french_phone_formats_give_one_e164(raw: str) -> None:
    assert normalize_phone(raw, "FR") == "+33612345678"


def test_phone_region_comes_from_the_record_country() -> None:
    assert normalize_phone("0412 345 678", "AU") == "+61412345678"
    assert normalize_phone("0412 345 678", "FR") != "+61412345678"


@pytest.mark.parametrize("raw", ["", "abc", "12", None, "+"])
def test_non_numbers_are_not_phones(raw: str | None) -> None:
    assert normalize_phone(raw, "FR") is None


def test_domains_reduce_to_the_registrable_part() -> None:
    assert normalize_domain("https://www.Acme.fr/contact") == "acme.fr"
    assert normalize_domain("mail.shop.acme.co.uk") == "acme.co.uk"
    assert normalize_domain("not a domain") is None
    assert normalize_domain("localhost") is None


def test_free_mail_domains_make_no_company() -> None:
    assert company_domain_of("jean@gmail.com") is None
    assert company_domain_of("jean@orange.fr") is None
    assert company_domain_of("jean@sales.acme.fr") == "acme.fr"


def test_street_splits_house_number_and_writes_out_abbreviations() -> None:
    assert split_street("12 bis, Rue St Honoré\nBât. B") == ("12bis", ("rue saint honore", "batiment b"))
    assert split_street("29 bd Haussmann") == split_street("29 boulevard Haussmann")
    assert split_street("12 High St") == ("12", ("high street",))
    assert split_street("") == ("", ())


def test_postcodes_compare_without_spaces() -> None:
    assert normalize_postcode(" 75 008 ") == "75008"
    assert normalize_postcode(None) == ""
