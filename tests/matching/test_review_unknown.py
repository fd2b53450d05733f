"""The unknown-address review queue: accept, attach, ignore, blocklist — from the service and from the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import UserError
from agent.store.models import SkippedItem
from agent.store.models_crm import Company
from tests.matching.review_world import CLAIRE, World


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path)
    world.mail(sender="Lucie Roy <lucie@roy-immo.fr>", to=CLAIRE, subject="Visite", days_ago=9)
    world.mail(sender="Lucie Roy <lucie@roy-immo.fr>", to=CLAIRE, subject="Plans", days_ago=3)
    world.mail(sender="Agence <contact@roy-immo.fr>", to=CLAIRE, subject="Facture", days_ago=2)
    world.mail(sender="Kevin <kevin@visibilite.fr>", to=CLAIRE, subject="Votre site web", days_ago=1)
    world.sync()
    yield world
    world.close()


def addresses(world) -> list[str]:
    return [u["address"] for u in world.review.unknown()]


def test_the_queue_lists_counts_and_dates_most_seen_first(world):
    rows = world.review.unknown()
    assert [(u["address"], u["count"], u["kind"]) for u in rows] == [
        ("lucie@roy-immo.fr", 2, "person"), ("kevin@visibilite.fr", 1, "person"), ("contact@roy-immo.fr", 1, "role")]
    assert rows[0]["first_seen"] < rows[0]["last_seen"]
    assert world.review.unknown(search="roy") == [r for r in rows if "roy" in r["address"]]
    assert len(world.review.unknown(limit=1)) == 1


def test_accept_makes_a_contact_and_links_its_past_mail_at_once(world):
    result = world.review.accept_unknown("Lucie@Roy-Immo.fr", name="Lucie ROY")
    company = world.company_of_domain("roy-immo.fr")
    # her two mails, and the agency's contact@ now that roy-immo.fr is a company's domain
    assert result["status"] == "accepted" and result["relinked"] == 3 and result["company_id"] == company
    lucie = world.contact_of("lucie@roy-immo.fr")
    assert (lucie.first_name, lucie.last_name, lucie.source) == ("Lucie", "ROY", "review")
    assert [link[1:3] for link in world.links("lucie@roy-immo.fr")] == [(lucie.id, "exact"), (lucie.id, "exact")]
    timeline = world.service.contact("lucie@roy-immo.fr")["timeline"]
    assert sorted(i["subject"] for i in timeline) == ["Plans", "Visite"]
    assert "lucie@roy-immo.fr" not in addresses(world)
    assert world.links("contact@roy-immo.fr") == [("Facture", None, None, company, "domain")]
    with pytest.raises(UserError, match="already the address of contact"):
        world.review.accept_unknown("lucie@roy-immo.fr")


def test_accept_into_a_named_company(world):
    with world.service.store.unit_of_work() as s:
        s.add(Company(name="Roy Immobilier", created_at=world.clock.now(), updated_at=world.clock.now()))
    result = world.review.accept_unknown("kevin@visibilite.fr", company_id="Roy Immobilier")
    with world.service.store.read() as s:
        assert s.get(Company, result["company_id"]).name == "Roy Immobilier"
    assert world.company_of_domain("visibilite.fr") is None  # the company given wins; no company from the domain


def test_attach_links_the_address_to_a_company_now_and_for_future_mail(world):
    world.review.accept_unknown("lucie@roy-immo.fr")
    company = world.company_of_domain("roy-immo.fr")
    result = world.review.attach_unknown("kevin@visibilite.fr", str(company))
    assert result["relinked"] == 1 and result["status"] == "attached"
    assert world.links("kevin@visibilite.fr") == [("Votre site web", None, None, company, "manual")]
    world.mail(sender="Kevin <kevin@visibilite.fr>", to=CLAIRE, subject="Relance", days_ago=0.5)
    world.mail(sender=CLAIRE, to="Kevin <kevin@visibilite.fr>", subject="Re: Relance", days_ago=0.4)
    world.sync()
    assert world.contact_of("kevin@visibilite.fr") is None  # attached to a company: never made a person
    assert {link[3:] for link in world.links("kevin@visibilite.fr")} == {(company, "manual")}
    assert "kevin@visibilite.fr" not in addresses(world)


def test_ignore_hides_the_address_and_keeps_it_from_being_created(world):
    world.review.ignore_unknown("kevin@visibilite.fr")
    assert "kevin@visibilite.fr" not in addresses(world)
    world.mail(sender=CLAIRE, to="Kevin <kevin@visibilite.fr>", subject="Non merci", days_ago=0.5)
    world.sync()
    assert world.contact_of("kevin@visibilite.fr") is None
    assert "kevin@visibilite.fr" not in addresses(world)


def test_blocklist_drops_future_mail_and_never_creates(world):
    result = world.review.blocklist_unknown("kevin@visibilite.fr")
    assert result["status"] == "blocklisted"
    world.mail(sender="Kevin <kevin@visibilite.fr>", to=CLAIRE, subject="Dernière offre", days_ago=0.5)
    world.mail(sender=CLAIRE, to="Kevin <kevin@visibilite.fr>", cc="Lucie Roy <lucie@roy-immo.fr>",
               subject="Stop", days_ago=0.4)
    world.sync()
    with world.service.store.read() as s:
        skipped = s.execute(select(SkippedItem.subject, SkippedItem.reason)).all()
    assert [tuple(row) for row in skipped] == [("Dernière offre", "blocklist")]
    assert world.contact_of("kevin@visibilite.fr") is None
    assert world.contact_of("lucie@roy-immo.fr") is not None  # the rest of that mail follows the policy
    assert "kevin@visibilite.fr" not in addresses(world)


def test_blocklisting_a_domain_covers_its_addresses(world):
    result = world.review.blocklist_unknown("@Roy-Immo.fr")
    assert result == {"address": "@roy-immo.fr", "status": "blocklisted", "queue_rows": 2}
    assert addresses(world) == ["kevin@visibilite.fr"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r.accept_unknown("not an address"), "is not an email address"),
    (lambda r: r.ignore_unknown("nobody@nowhere.fr"), "appears on no interaction"),
    (lambda r: r.attach_unknown("kevin@visibilite.fr", "999"), "no company matches"),
    (lambda r: r.blocklist_unknown("@"), "is not a domain"),
])
def test_bad_requests_are_one_line_user_errors(world, call, message):
    with pytest.raises(UserError, match=message):
        call(world.review)


def test_the_cli_lists_and_decides(world):
    config = world.tmp / "config.toml"
    config.write_text(f'database = "{world.service.settings.database}"\nown_domains = ["atelier-durand.fr"]\n',
                      encoding="utf-8")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, ["--config", str(config), *args])

    listed = run("review", "unknown", "--json")
    assert listed.exit_code == 0, listed.output
    assert [u["address"] for u in json.loads(listed.output)][0] == "lucie@roy-immo.fr"
    text = run("review", "unknown")
    assert "lucie@roy-immo.fr" in text.output and "accept|attach|ignore|blocklist" in text.output
    accepted = run("review", "unknown", "accept", "lucie@roy-immo.fr", "--name", "Lucie Roy", "--json")
    assert accepted.exit_code == 0 and json.loads(accepted.output)["status"] == "accepted"
    assert run("review", "unknown", "ignore", "kevin@visibilite.fr").exit_code == 0
    assert run("review", "unknown", "--json").output.strip() == json.dumps([
        u for u in world.review.unknown()], ensure_ascii=False, indent=2)
    bad = subprocess.run([sys.executable, "-m", "agent", "--config", str(config), "review", "unknown", "accept",
                          "pas-une-adresse"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "is not an email address" in bad.stderr and "Traceback" not in bad.stderr
