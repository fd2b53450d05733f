"""Re-matching without refetch: a new contact, address or company domain re-links stored participants at once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from agent.errors import UserError
from agent.store.crm_repo import RELINK_CHUNK, relink_participants
from agent.store.models import Participant
from agent.store.models_crm import Contact, ContactAddress
from tests.matching.review_world import CLAIRE, World, import_csv


@pytest.fixture
def world(tmp_path):
    world = World(tmp_path, matching={"create_contacts": "none"})
    world.mail(sender="Jean Dupont <jean@menuiserie-roy.fr>", to=CLAIRE, subject="Devis", days_ago=9)
    world.mail(sender="Jean Dupont <jean.dupont@gmail.com>", to=CLAIRE, subject="Photos", days_ago=8)
    world.mail(sender="Atelier <atelier@menuiserie-roy.fr>", to=CLAIRE, subject="Livraison", days_ago=7)
    world.sync()
    yield world
    world.close()


def test_importing_a_contact_links_its_past_mail_and_the_timeline_shows_it(world):
    assert world.links("jean@menuiserie-roy.fr") == [("Devis", None, None, None, None)]
    result = import_csv(world, "Dupont;Jean;jean@menuiserie-roy.fr;Menuiserie Roy;;;\n")
    jean = world.contact_of("jean@menuiserie-roy.fr")
    company = world.company_of_domain("menuiserie-roy.fr")
    assert result["relinked"] == 2  # his mail (contact and company), and the workshop's address by domain
    assert world.links("jean@menuiserie-roy.fr") == [("Devis", jean.id, "exact", company, "exact")]
    assert world.links("atelier@menuiserie-roy.fr") == [("Livraison", None, None, company, "domain")]
    assert [i["subject"] for i in world.service.contact(str(jean.id))["timeline"]] == ["Devis"]
    assert import_csv(world, "Dupont;Jean;jean@menuiserie-roy.fr;Menuiserie Roy;;;\n")["relinked"] == 0  # idempotent


def test_adding_an_address_links_its_past_mail_as_an_alias(world):
    import_csv(world, "Dupont;Jean;jean@menuiserie-roy.fr;Menuiserie Roy;;;\n")
    jean = world.contact_of("jean@menuiserie-roy.fr")
    result = world.review.add_address(jean.id, "Jean.Dupont@Gmail.com")
    assert result == {"contact_id": jean.id, "address": "jean.dupont@gmail.com", "relinked": 1}
    company = world.company_of_domain("menuiserie-roy.fr")
    assert world.links("jean.dupont@gmail.com")[0][1:] == (jean.id, "alias", company, "alias")
    timeline = world.service.contact("jean@menuiserie-roy.fr")["timeline"]
    assert sorted(i["subject"] for i in timeline) == ["Devis", "Photos"]
    with pytest.raises(UserError, match="already belongs to contact"):
        world.review.add_address(jean.id, "jean.dupont@gmail.com")


def test_adding_a_domain_in_any_form_links_the_companys_past_mail(world):
    import_csv(world, "Roy;Paul;;Menuiserie Roy;;;\n")
    with world.service.store.read() as s:
        company = s.scalar(select(Contact.company_id).where(Contact.last_name == "Roy"))
    result = world.review.add_domain(company, "https://www.Menuiserie-Roy.fr/contact")
    assert result == {"company_id": company, "domain": "menuiserie-roy.fr", "relinked": 2}
    assert {link[3:] for link in world.links("atelier@menuiserie-roy.fr") + world.links("jean@menuiserie-roy.fr")} \
        == {(company, "domain")}
    assert world.review.company("menuiserie-roy.fr")["company"]["id"] == company
    with pytest.raises(UserError, match="not a domain a company can own"):
        world.review.add_domain(company, "localhost")


def test_manual_links_are_never_overwritten(world):
    import_csv(world, "Autre;Paul;paul@autre-client.fr;Autre Client;;;\n")
    paul = world.contact_of("paul@autre-client.fr")
    with world.service.store.unit_of_work() as s:  # a person linked Jean's mail to Paul by hand
        s.execute(update(Participant).where(Participant.address == "jean@menuiserie-roy.fr")
                  .values(contact_id=paul.id, contact_reason="manual", company_id=paul.company_id,
                          company_reason="manual"))
    import_csv(world, "Dupont;Jean;jean@menuiserie-roy.fr;Menuiserie Roy;;;\n")
    assert world.links("jean@menuiserie-roy.fr") == [("Devis", paul.id, "manual", paul.company_id, "manual")]


def test_relinking_many_contacts_is_batched_and_complete(world):
    lines = "".join(f"Nom{n};Prénom{n};p{n}@client{n % 7}.fr;;;;\n" for n in range(RELINK_CHUNK * 2 + 17))
    for n in range(0, RELINK_CHUNK * 2 + 17, 3):  # a third of them wrote to us before being imported
        world.mail(sender=f"P{n} <p{n}@client{n % 7}.fr>", to=CLAIRE, subject=f"m{n}", days_ago=1)
    world.sync()
    import_csv(world, lines)
    with world.service.store.read() as s:
        unlinked = s.scalar(select(func.count()).select_from(Participant)
                            .where(Participant.address.like("p%@client%"), Participant.contact_id.is_(None)))
        linked = s.scalar(select(func.count()).select_from(Participant)
                          .join(ContactAddress, ContactAddress.address == Participant.address)
                          .where(Participant.contact_id == ContactAddress.contact_id))
        ids = list(s.scalars(select(Contact.id)))
    assert unlinked == 0 and linked == len(range(0, RELINK_CHUNK * 2 + 17, 3))
    with world.service.store.unit_of_work() as s:
        assert relink_participants(s, contact_ids=ids, domains=["client1.fr"]) == 0


GMAIL_ALIASES = {"gmail.com": {"plus_addressing": True, "ignore_dots": True},
                 "googlemail.com": {"plus_addressing": True, "ignore_dots": True, "canonical_domain": "gmail.com"}}


def test_re_matching_follows_the_configured_alias_forms_as_live_matching_does(tmp_path):
    world = World(tmp_path, matching={"create_contacts": "none", "aliases": GMAIL_ALIASES})
    try:
        world.mail(sender="Jean <jean.dupont+crm@googlemail.com>", to=CLAIRE, subject="Photos", days_ago=8)
        world.mail(sender="Jean <Jean.Dupont@gmail.com>", to=CLAIRE, subject="Plans", days_ago=7)
        world.mail(sender="Julie <julie.dupont@gmail.com>", to=CLAIRE, subject="Autre", days_ago=6)
        world.sync()
        result = import_csv(world, "Dupont;Jean;jeandupont@gmail.com;;;;\n")
        jean = world.contact_of("jeandupont@gmail.com")
        assert result["relinked"] == 2
        assert world.links("jean.dupont+crm@googlemail.com")[0][1:3] == (jean.id, "alias")
        assert world.links("jean.dupont@gmail.com")[0][1:3] == (jean.id, "alias")
        assert world.links("julie.dupont@gmail.com")[0][1:3] == (None, None)  # same domain, another person
        # what a mail arriving now gets is what re-matching gave the past ones
        world.mail(sender="Jean <jean.dupont+devis@gmail.com>", to=CLAIRE, subject="Nouveau", days_ago=1)
        world.sync()
        assert world.links("jean.dupont+devis@gmail.com")[0][1:3] == (jean.id, "alias")
        assert import_csv(world, "Dupont;Jean;jeandupont@gmail.com;;;;\n")["relinked"] == 0  # idempotent
        # an alias form that is another contact's own address stays theirs
        import_csv(world, "Dupont;Julie;julie.dupont@gmail.com;;;;\n")
        julie = world.contact_of("julie.dupont@gmail.com")
        import_csv(world, "Dupont;Juliette;juliedupont@gmail.com;;;;\n")
        assert world.links("julie.dupont@gmail.com")[0][1:3] == (julie.id, "exact")
    finally:
        world.close()
