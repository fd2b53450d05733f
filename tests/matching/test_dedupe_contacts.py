"""Contact de-duplication: French name variants, thresholds, exclusions, determinism, linkage, bad input."""

from __future__ import annotations

import random

import pytest

from agent.errors import UserError
from agent.matching.dedupe import (
    ContactRecord,
    find_contact_duplicates,
    link_contacts,
    one_to_one,
    split_by_threshold,
)
from tests.matching.dedupe_data import crowd, with_duplicates

CROWD = crowd(120, seed=11)


def pair_of(a: ContactRecord, b: ContactRecord, **kwargs):
    """The scored pair (a, b) when the two are put among a crowd of other people, or None."""
    pairs = find_contact_duplicates([*CROWD, a, b], low=0.0, **kwargs)
    found = [p for p in pairs if {p.a_id, p.b_id} == {a.id, b.id}]
    return found[0] if found else None


def contact(id: int, first: str, last: str, **fields) -> ContactRecord:
    return ContactRecord(id, first, last, **fields)


def test_swapped_first_and_last_name_is_a_duplicate_and_says_so() -> None:
    a = contact(1, "Jean", "Dupont", emails=("j.dupont@acme.fr",), postcode="75002", city="Paris")
    b = contact(2, "DUPONT", "Jean", emails=("J.Dupont@ACME.fr",), postcode="75002", city="Paris")
    pair = pair_of(a, b)
    assert pair is not None and pair.score >= 0.95
    assert "names match (swapped order)" in pair.reasons
    assert "same email j.dupont@acme.fr" in pair.reasons


def test_accents_and_case_do_not_matter() -> None:
    a = contact(1, "Hélène", "Lefèvre", phones=("06 11 22 33 44",), city="Lyon", postcode="69003")
    b = contact(2, "HELENE", "LEFEVRE", phones=("+33611223344",), city="LYON", postcode="69003")
    pair = pair_of(a, b)
    assert pair is not None and pair.score >= 0.95
    assert "same first name helene" in pair.reasons
    assert "same last name lefevre" in pair.reasons
    assert "same phone +33611223344" in pair.reasons


def test_hyphenated_and_spaced_compound_names_are_equal() -> None:
    a = contact(1, "Jean-Pierre", "Saint-Just", street="4 rue Pasteur", postcode="44000", city="Nantes")
    b = contact(2, "Jean Pierre", "Saint Just", street="4, r. Pasteur", postcode="44000", city="Nantes")
    pair = pair_of(a, b)
    assert pair is not None and pair.score >= 0.95
    assert "same first name jean pierre" in pair.reasons


def test_initials_are_compatible_but_weaker_than_the_full_name() -> None:
    full = contact(1, "Jean-Pierre", "Moreau", phones=("0612345678",), postcode="31000", city="Toulouse")
    initials = contact(2, "J.-P.", "Moreau", phones=("06 12 34 56 78",), postcode="31000", city="Toulouse")
    same = contact(2, "Jean-Pierre", "Moreau", phones=("06 12 34 56 78",), postcode="31000", city="Toulouse")
    with_initials = pair_of(full, initials)
    assert with_initials is not None and with_initials.score >= 0.5
    assert any("compatible (initial or part) (jean pierre / j p)" in r for r in with_initials.reasons)
    assert with_initials.score <= pair_of(full, same).score


def test_typo_in_last_name_still_matches_with_same_address() -> None:
    a = contact(1, "Aurélie", "Chevalier", street="12 avenue Foch", postcode="67000", city="Strasbourg")
    b = contact(2, "Aurelie", "Chevalieer", street="12 av. Foch", postcode="67000", city="Strasbourg")
    pair = pair_of(a, b)
    assert pair is not None and pair.score >= 0.5
    assert any(r.startswith("last names close") for r in pair.reasons)


def test_colleagues_sharing_a_switchboard_are_not_duplicates() -> None:
    a = contact(1, "Marie", "Martin", phones=("01 40 00 00 00",), company="Acme SARL", city="Paris")
    b = contact(2, "Paul", "Durand", phones=("01 40 00 00 00",), company="ACME", city="Paris")
    pair = pair_of(a, b)
    assert pair is None or pair.score < 0.5


def test_namesakes_with_nothing_else_in_common_are_not_auto_merged() -> None:
    a = contact(1, "Marie", "Martin", emails=("marie.martin@gmail.com",), phones=("0611111111",),
                street="3 rue du Moulin", postcode="59000", city="Lille")
    b = contact(2, "Marie", "Martin", emails=("mmartin@horizon.fr",), phones=("0622222222",),
                street="80 quai de la Loire", postcode="06000", city="Nice")
    pair = pair_of(a, b)
    assert pair is None or pair.score < 0.95


def test_reasons_put_agreement_before_disagreement() -> None:
    a = contact(1, "Luc", "Bonnet", emails=("luc@bonnet.fr",), postcode="35000", city="Rennes")
    b = contact(2, "Luc", "Bonnet", emails=("luc@bonnet.fr",), postcode="13001", city="Marseille")
    reasons = pair_of(a, b).reasons
    assert reasons.index("same email luc@bonnet.fr") < reasons.index("city differs (rennes / marseille)")


def test_only_pairs_at_or_above_low_are_returned_and_high_splits_them() -> None:
    records, _ = with_duplicates(200, 30, seed=21)
    everything = find_contact_duplicates(records, low=0.0)
    returned = find_contact_duplicates(records, low=0.5, high=0.95)
    assert {p.ids for p in returned} == {p.ids for p in everything if p.score >= 0.5}
    auto, review = split_by_threshold(returned, 0.95)
    assert all(p.score >= 0.95 for p in auto) and all(0.5 <= p.score < 0.95 for p in review)
    assert len(auto) + len(review) == len(returned)


@pytest.mark.parametrize(("high", "low"), [(0.4, 0.6), (1.5, 0.5), (0.9, -0.1)])
def test_inconsistent_thresholds_are_a_user_error(high: float, low: float) -> None:
    with pytest.raises(UserError, match="thresholds"):
        find_contact_duplicates(CROWD[:3], high=high, low=low)


def test_excluded_pairs_never_come_back_in_either_order() -> None:
    a = contact(1, "Jean", "Dupont", emails=("j.dupont@acme.fr",))
    b = contact(2, "Jean", "Dupont", emails=("j.dupont@acme.fr",))
    c = contact(3, "Jean", "Dupont", emails=("j.dupont@acme.fr",))
    assert {p.ids for p in find_contact_duplicates([a, b, c])} == {(1, 2), (1, 3), (2, 3)}
    kept = find_contact_duplicates([a, b, c], exclude=frozenset({(2, 1), (2, 3)}))
    assert {p.ids for p in kept} == {(1, 3)}


def test_output_is_deterministic_whatever_the_input_order() -> None:
    records, _ = with_duplicates(150, 25, seed=5, n_namesakes=10)
    first = find_contact_duplicates(records, low=0.2)
    shuffled = list(records)
    random.Random(99).shuffle(shuffled)
    assert find_contact_duplicates(shuffled, low=0.2) == first
    assert all(p.a_id < p.b_id for p in first)
    assert [p.score for p in first] == sorted((p.score for p in first), reverse=True)


def test_duplicate_ids_are_a_user_error() -> None:
    with pytest.raises(UserError, match="contact id 7 appears twice"):
        find_contact_duplicates([contact(7, "A", "B"), contact(7, "C", "D")])


def test_malformed_fields_weaken_comparisons_instead_of_failing() -> None:
    odd = [
        ContactRecord(1, "", "", ("not an address", "@@"), ("n/a", "+"), "", "", "", "", ""),
        ContactRecord(2, "Émile", "", (), ("0612",), "SARL", ",,,", "?", "-", "ZZ"),
        ContactRecord(3, "   ", "Zola", ("emile@zola.fr",), (), "", "12", "", "", "FR"),
    ]
    assert all(0.0 <= p.score <= 1.0 for p in find_contact_duplicates(odd, low=0.0))
    assert find_contact_duplicates([]) == []


def test_synthetic_crm_duplicates_are_found_with_high_precision_and_recall() -> None:
    records, truth = with_duplicates(600, 120, seed=8, n_namesakes=60)
    found = {p.ids for p in find_contact_duplicates(records)}  # default thresholds
    hits = len(found & truth)
    assert hits / len(found) >= 0.98  # precision
    assert hits / len(truth) >= 0.95  # recall
    auto, _ = split_by_threshold(find_contact_duplicates(records), 0.95)
    assert all(p.ids in truth for p in auto)  # no namesake is ever auto-merged


def test_link_contacts_pairs_left_with_right_and_one_to_one_keeps_one_partner() -> None:
    left = [contact(1, "Jean", "Dupont", emails=("jd@acme.fr",), city="Paris"),
            contact(2, "Anne", "Roux", phones=("0611111111",), city="Lyon")]
    right = [contact(1, "Anne", "ROUX", phones=("06 11 11 11 11",), city="Lyon"),
             contact(2, "Jean", "Dupont", emails=("JD@acme.fr",), city="Paris"),
             contact(3, "Jean", "Dupont", city="Paris")]
    pairs = link_contacts(left, right)
    assert (1, 2) in {p.ids for p in pairs} and (2, 1) in {p.ids for p in pairs}
    assert all(p.a_id in {1, 2} and p.b_id in {1, 2, 3} for p in pairs)
    linked = one_to_one(pairs)
    assert {p.ids for p in linked} == {(1, 2), (2, 1)}
    assert link_contacts(left, right, exclude=frozenset({(1, 2)})) == [p for p in pairs if p.ids != (1, 2)]
