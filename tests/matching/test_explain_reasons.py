"""`explain` says why every participant is linked (or not): exact, alias, domain, created, reply-inherited, manual."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli.main import app
from agent.store.models import Interaction
from tests.matching.review_world import CLAIRE, World, import_csv


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("explain"))
    import_csv(world, "Dupont;Jean;jean@acme-btp.fr;Acme BTP;;;\n")
    world.review.add_address(world.contact_of("jean@acme-btp.fr").id, "jean.perso@gmail.com")
    first = world.mail(sender="Jean Dupont <jean@acme-btp.fr>", to=CLAIRE, subject="Chantier", days_ago=9)
    world.mail(sender="Jean <jean.perso@gmail.com>", to=CLAIRE, subject="Depuis chez moi", days_ago=8)
    world.mail(sender="Paul Martin <paul.martin@acme-btp.fr>", to=CLAIRE, subject="Livraison", days_ago=7)
    world.mail(sender=CLAIRE, to="Lucie Roy <lucie@roy-immo.fr>", subject="Proposition", days_ago=6)
    world.mail(sender=CLAIRE, to="Boulangerie <contact@boulangerie-paul.fr>", subject="Tarifs", days_ago=5)
    world.mail(sender="Marie Dupont <marie.dupont@gmail.com>", to=CLAIRE, subject="Re: Chantier",
               in_reply_to=first, days_ago=4)
    world.mail(sender="Kevin <kevin@visibilite.fr>", to=CLAIRE, cc="Robot <noreply@plateforme.fr>",
               subject="Offre", days_ago=3)
    world.sync()
    world.review.attach_unknown("kevin@visibilite.fr", world.company_of_domain("acme-btp.fr"))
    world.mail(sender="Kevin <kevin@visibilite.fr>", to=CLAIRE, cc="Spam <spam@pub.fr>", subject="Relance offre",
               days_ago=2)
    world.sync()
    world.review.blocklist_unknown("spam@pub.fr")
    yield world
    world.close()


def explained(world, subject: str) -> dict[str, dict]:
    with world.service.store.read() as s:
        interaction_id = s.scalar(select(Interaction.id).where(Interaction.subject == subject))
    answer = world.service.explain(str(interaction_id))
    assert answer["found"] == "interaction"
    return {p["address"]: p for p in answer["participants"]}


def test_exact_the_contacts_primary_address(world):
    jean = explained(world, "Chantier")["jean@acme-btp.fr"]
    assert jean["contact"]["reason"] == "exact" and jean["contact"]["name"] == "Jean Dupont"
    assert jean["contact"]["why"] == "the address is the contact's primary address"
    assert jean["company"]["name"] == "Acme BTP" and jean["company"]["why"] == "the contact belongs to this company"


def test_alias_another_address_of_the_contact(world):
    jean = explained(world, "Depuis chez moi")["jean.perso@gmail.com"]
    assert jean["contact"]["reason"] == "alias" and "one of the contact's other addresses" in jean["contact"]["why"]


def test_domain_the_company_owns_the_domain(world):
    paul = explained(world, "Livraison")["paul.martin@acme-btp.fr"]
    assert "contact" not in paul
    assert paul["company"]["reason"] == "domain"
    assert paul["company"]["why"] == "the address's domain belongs to the company"
    assert "waiting in the review queue" in paul["why"] and "received only" in paul["why"]


def test_created_by_the_account_policy(world):
    lucie = explained(world, "Proposition")["lucie@roy-immo.fr"]
    assert lucie["contact"]["reason"] == "created" and "created from this participant" in lucie["contact"]["why"]
    role = explained(world, "Tarifs")["contact@boulangerie-paul.fr"]
    assert "contact" not in role
    assert role["company"]["reason"] == "created" and "created from this address's domain" in role["company"]["why"]


def test_reply_inherited_from_the_thread(world):
    marie = explained(world, "Re: Chantier")["marie.dupont@gmail.com"]
    assert marie["company"]["reason"] == "reply-inherited" and marie["company"]["name"] == "Acme BTP"
    assert marie["company"]["why"] == "a reply in a thread already linked to this company"


def test_manual_attached_in_review_and_the_unlinked_say_why(world):
    relance = explained(world, "Relance offre")
    assert relance["kevin@visibilite.fr"]["company"]["reason"] == "manual"
    assert "attached to the company in review" in relance["kevin@visibilite.fr"]["company"]["why"]
    assert relance["spam@pub.fr"]["why"] == "blocklisted in review: never linked nor created"
    offer = explained(world, "Offre")
    assert "automated address" in offer["noreply@plateforme.fr"]["why"]
    assert offer["kevin@visibilite.fr"]["company"]["reason"] == "manual"  # attaching re-linked the past mail too


def test_the_cli_prints_the_chain(world):
    config = world.tmp / "config.toml"
    config.write_text(f'database = "{world.service.settings.database}"\nown_domains = ["atelier-durand.fr"]\n',
                      encoding="utf-8")
    with world.service.store.read() as s:
        interaction_id = s.scalar(select(Interaction.id).where(Interaction.subject == "Proposition"))
    result = CliRunner().invoke(app, ["--config", str(config), "explain", str(interaction_id)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "lucie@roy-immo.fr → contact #" in text
    assert "(created: the contact was created from this participant" in text
