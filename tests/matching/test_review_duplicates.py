"""The duplicate scan and its review queue: two thresholds, both records side by side, not-duplicate remembered."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import UserError
from tests.matching.review_world import World, import_csv

PEOPLE = (
    "Lemaire;Sophie;sophie.lemaire@boulangerie-lemaire.fr;Boulangerie Lemaire;04 65 71 20 14;Gérante;prospect\n"
    "Sophie LEMAIRE;;s.lemaire@orange.fr;Boulangerie LEMAIRE;+33 6 39 98 41 27;;client\n"
    "Fontaine;Isabelle;i.fontaine@hotel-les-tilleuls.fr;Hôtel Les Tilleuls;04 65 71 33 08;Directrice;client\n"
    "Noël;Chloé;c.noel@hotel-les-tilleuls.fr;Hôtel Les Tilleuls;04 65 71 33 00;Gouvernante;client\n"
    "Rousseau;Antoine;a.rousseau@cabinet-rousseau.fr;Cabinet Rousseau;04 65 71 48 90;Avocat;client\n"
    "Girard;Nathalie;n.girard@cabinet-rousseau.fr;Cabinet Rousseau;04 65 71 48 91;Assistante;client\n"
    "Faure;Laurent;l.faure@faure-immobilier.fr;Faure Immobilier;04 65 71 90 12;Gérant;prospect\n"
    "Blanc;Josiane;josiane.blanc@gmail.com;;06 39 98 11 02;;client\n"
    "Mercier;Valérie;v.mercier@mercier-expertise.fr;Mercier Expertise;04 65 71 39 84;Expert;client\n"
    "Aubert;François;f.aubert@aubert-assurances.fr;Aubert Assurances;04 65 71 12 88;Agent;prospect\n"
)


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    import_csv(world, PEOPLE)
    yield world
    world.close()


def lemaire_ids(world) -> tuple[int, int]:
    return world.contact_of("sophie.lemaire@boulangerie-lemaire.fr").id, world.contact_of("s.lemaire@orange.fr").id


def test_above_the_merge_threshold_the_scan_merges_into_the_older_record(world):
    result = world.review.find_duplicates()
    assert result["contact"]["merged"] == 1 and result["contact"]["queued"] == 0
    keep, other = lemaire_ids(world)
    assert keep == other  # both addresses now lead to one contact
    [merge] = world.review.merges()
    assert merge["auto"] and merge["score"] >= 0.95 and merge["kept"]["name"] == "Sophie Lemaire"
    assert "same first name sophie" in merge["reasons"] and "same last name lemaire" in merge["reasons"]
    again = world.review.find_duplicates()
    assert again["contact"]["pairs"] == 0  # idempotent: nothing left to merge


def test_between_the_thresholds_pairs_wait_side_by_side(tmp_path):
    world = World(tmp_path, matching={"merge_threshold": 1.0, "review_threshold": 0.8})
    import_csv(world, PEOPLE)
    result = world.review.find_duplicates()
    assert result["contact"] == {"kind": "contact", "pairs": 1, "merged": 0, "merge_ids": [], "queued": 1}
    [pair] = world.review.duplicates("contact")
    a, b = lemaire_ids(world)
    assert (pair["a"]["id"], pair["b"]["id"]) == (a, b) and 0.8 <= pair["score"] < 1.0
    assert pair["a"]["emails"] == ["sophie.lemaire@boulangerie-lemaire.fr"]
    assert pair["b"]["emails"] == ["s.lemaire@orange.fr"]
    assert pair["a"]["phone"] == "+33465712014" and pair["b"]["status"] == "client"
    assert any("lemaire" in reason for reason in pair["reasons"])
    merged = world.review.merge("contact", a, b)
    assert world.review.duplicates("contact") == []
    assert world.review.merges()[0]["id"] == merged["merge_id"] and not world.review.merges()[0]["auto"]
    world.close()


def test_not_duplicate_is_remembered_forever(tmp_path):
    world = World(tmp_path, matching={"merge_threshold": 1.0, "review_threshold": 0.8})
    import_csv(world, PEOPLE)
    world.review.find_duplicates()
    a, b = lemaire_ids(world)
    assert world.review.not_duplicate("contact", b, a) == {"kind": "contact", "a_id": a, "b_id": b,
                                                            "status": "not_duplicate"}
    assert world.review.duplicates("contact") == []
    world.close()
    (tmp_path / "eager").mkdir()
    eager = World(tmp_path / "eager", database=world.service.settings.database,
                  matching={"merge_threshold": 0.5, "review_threshold": 0.1})
    result = eager.review.find_duplicates()
    assert result["contact"]["merged"] == 0 and eager.review.duplicates("contact") == []
    assert lemaire_ids(eager) == (a, b)
    eager.close()


def test_an_undone_merge_is_not_merged_again(world):
    [merge_id] = world.review.find_duplicates()["contact"]["merge_ids"]
    world.review.unmerge(merge_id)
    assert world.review.find_duplicates()["contact"]["merged"] == 0
    a, b = lemaire_ids(world)
    assert a != b


def test_company_names_with_legal_forms_and_case_are_found(tmp_path):
    world = World(tmp_path, matching={"merge_threshold": 1.0, "review_threshold": 0.5})
    import_csv(world, "Durand;Paul;paul@societegenerale.fr;Société Générale;;;\n"
                      "Martin;Anne;anne@gmail.com;SOCIETE GENERALE SA;;;\n"
                      "Petit;Léa;lea@boulangerie-martin.fr;Boulangerie Martin;;;\n"
                      "Roy;Jean;jean@boulangerie-dupont.fr;Boulangerie Dupont;;;\n")
    world.review.find_duplicates()
    pairs = world.review.duplicates("company")
    assert [(p["a"]["name"], p["b"]["name"]) for p in pairs] == [("Société Générale", "SOCIETE GENERALE SA")]
    assert pairs[0]["a"]["domains"] == ["societegenerale.fr"] and pairs[0]["b"]["contacts"] == 1
    world.close()


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r.duplicates("person"), "kind must be contact or company"),
    (lambda r: r.not_duplicate("contact", 1, 1), "always a duplicate of itself"),
    (lambda r: r.not_duplicate("company", 1, 999), "no company with id 999"),
])
def test_bad_review_requests_are_user_errors(world, call, message):
    with pytest.raises(UserError, match=message):
        call(world.review)


def test_the_cli_scans_lists_merges_and_undoes(tmp_path):
    world = World(tmp_path, matching={"merge_threshold": 1.0, "review_threshold": 0.8})
    import_csv(world, PEOPLE)
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{world.service.settings.database}"\nown_domains = ["atelier-durand.fr"]\n'
                      '[matching]\nmerge_threshold = 1.0\nreview_threshold = 0.8\n', encoding="utf-8")

    def run(*args):
        result = CliRunner().invoke(app, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())  # the console wraps long lines at its width

    assert "contact: 1 possible pair(s): 0 merged automatically (score >= 1.0), 1 queued for review" in run("dedupe")
    listed = json.loads(run("review", "duplicates", "--json"))
    a, b = listed[0]["a"]["id"], listed[0]["b"]["id"]
    text = run("review", "duplicates")
    assert "Sophie LEMAIRE" in text and "s.lemaire@orange.fr" in text and "why:" in text
    merged = json.loads(run("review", "duplicates", "merge", str(a), str(b), "--json"))
    assert f"#{b} Sophie" in run("review", "merges")
    assert "undone" in run("unmerge", str(merged["merge_id"]))
    assert "remembered as different" in run("review", "duplicates", "not-duplicate", str(a), str(b))
    assert "No possible duplicate" in run("review", "duplicates")
    assert "Boulangerie Lemaire" in run("companies", "list")
    assert "sophie.lemaire@boulangerie-lemaire.fr" in run("companies", "show", "boulangerie-lemaire.fr")
    world.close()
