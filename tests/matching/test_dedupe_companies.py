"""Company de-duplication: legal forms, domains, SIREN, look-alike names, exclusions."""

from __future__ import annotations

import pytest

from agent.errors import UserError
from agent.matching.dedupe import CompanyRecord, find_company_duplicates

BACKGROUND = [
    CompanyRecord(100 + k, name, (f"{slug}.fr",), (), f"{k + 1} rue Pasteur", postcode, city)
    for k, (name, slug, postcode, city) in enumerate([
        ("Boulangerie Martin", "boulangerie-martin", "75011", "Paris"),
        ("Boulangerie Dupont", "boulangerie-dupont", "75011", "Paris"),
        ("Garage du Centre", "garageducentre", "69003", "Lyon"),
        ("Cabinet Leroy", "cabinet-leroy", "31000", "Toulouse"),
        ("Transports Dubois", "transports-dubois", "44000", "Nantes"),
        ("Pharmacie de la Gare", "pharmaciedelagare", "33000", "Bordeaux"),
        ("Menuiserie Petit", "menuiserie-petit", "59000", "Lille"),
        ("Agence Horizon", "agence-horizon", "67000", "Strasbourg"),
    ])
]


def score_of(a: CompanyRecord, b: CompanyRecord) -> float | None:
    found = [p for p in find_company_duplicates([*BACKGROUND, a, b], low=0.0) if {p.a_id, p.b_id} == {a.id, b.id}]
    return found[0].score if found else None


def test_societe_generale_with_and_without_legal_form_is_one_company() -> None:
    a = CompanyRecord(1, "Société Générale", ("https://www.societegenerale.fr",), ("01 42 14 20 00",),
                      "29 boulevard Haussmann", "75009", "Paris")
    b = CompanyRecord(2, "SOCIETE GENERALE SA", ("societegenerale.fr",), (), "29 bd Haussmann", "75009", "PARIS")
    pairs = find_company_duplicates([*BACKGROUND, a, b])
    assert pairs[0].ids == (1, 2) and pairs[0].score >= 0.95
    assert "same name societe generale" in pairs[0].reasons
    assert "same domain societegenerale.fr" in pairs[0].reasons
    assert "same street boulevard haussmann" in pairs[0].reasons


@pytest.mark.parametrize("form", ["SARL", "SAS", "SA", "EURL", "SASU", "SCI", "SNC"])
def test_legal_form_alone_does_not_separate_two_records(form: str) -> None:
    a = CompanyRecord(1, "Atelier Lumière", (), ("04 78 00 00 01",), "", "69002", "Lyon")
    b = CompanyRecord(2, f"ATELIER LUMIERE {form}", (), ("0478000001",), "", "69002", "Lyon")
    assert score_of(a, b) >= 0.95


def test_shops_sharing_a_generic_first_word_are_not_duplicates() -> None:
    scores = [p.score for p in find_company_duplicates(BACKGROUND, low=0.0) if {p.a_id, p.b_id} == {100, 101}]
    assert not scores or scores[0] < 0.5


def test_same_siren_outweighs_a_renamed_company() -> None:
    a = CompanyRecord(1, "Durand Bâtiment", (), (), "", "35000", "Rennes", siren="552 100 554")
    b = CompanyRecord(2, "DB Construction", (), (), "", "35000", "Rennes", siren="55210055400013")  # SIRET
    assert score_of(a, b) >= 0.5


def test_different_sirens_keep_namesakes_apart() -> None:
    a = CompanyRecord(1, "Garage Moderne", (), (), "", "13001", "Marseille", siren="123456789")
    b = CompanyRecord(2, "Garage Moderne", (), (), "", "13001", "Marseille", siren="987654321")
    same_siren = CompanyRecord(2, "Garage Moderne", (), (), "", "13001", "Marseille", siren="123456789")
    assert score_of(a, b) < score_of(a, same_siren)
    assert score_of(a, b) < 0.95


def test_free_mail_domains_do_not_link_companies() -> None:
    a = CompanyRecord(1, "Plomberie Rapide", ("gmail.com",), (), "", "06000", "Nice")
    b = CompanyRecord(2, "Électricité Soleil", ("gmail.com",), (), "", "06000", "Nice")
    assert (score_of(a, b) or 0.0) < 0.5


def test_exclusions_thresholds_and_duplicate_ids() -> None:
    a = CompanyRecord(1, "Acme", ("acme.fr",))
    b = CompanyRecord(2, "ACME SAS", ("www.acme.fr",))
    assert [p.ids for p in find_company_duplicates([a, b])] == [(1, 2)]
    assert find_company_duplicates([a, b], exclude=frozenset({(2, 1)})) == []
    with pytest.raises(UserError, match="thresholds"):
        find_company_duplicates([a, b], high=0.2, low=0.5)
    with pytest.raises(UserError, match="company id 1 appears twice"):
        find_company_duplicates([a, a])
