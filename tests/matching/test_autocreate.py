"""Auto-creation per account policy, through the real pipeline: who becomes a contact, who waits in review, counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from agent.matching.autocreate import verdict
from agent.records import Direction, ParticipantDraft, Role
from agent.store.models_crm import Company, Contact
from agent.store.models_matching import ReviewUnknown
from tests.matching.review_world import CLAIRE, JULIEN, NOW, World


def person(address: str, role: Role, name: str = "Jean Dupont", internal: bool = False) -> ParticipantDraft:
    return ParticipantDraft(address, role, name, internal)


@pytest.mark.parametrize(("participant", "direction", "policy", "options", "action", "why"), [
    (person("jean@acme.fr", Role.TO), Direction.OUT, "sent", {}, "create", "policy sent"),
    (person("jean@acme.fr", Role.CC), Direction.OUT, "sent", {}, "create", "policy sent"),
    (person("jean@acme.fr", Role.FROM), Direction.IN, "sent", {}, "queue", "received only"),
    (person("jean@acme.fr", Role.FROM), Direction.IN, "sent_and_received", {}, "create", "policy"),
    (person("jean@acme.fr", Role.CC), Direction.IN, "sent_and_received", {}, "queue", "in copy"),
    (person("jean@acme.fr", Role.TO), Direction.OUT, "none", {}, "queue", "policy none"),
    (person("marc@atelier-durand.fr", Role.TO, internal=True), Direction.OUT, "sent", {}, "drop", "internal"),
    (person("noreply@acme.fr", Role.TO), Direction.OUT, "sent", {}, "drop", "automated"),
    (person("ne-pas-repondre@acme.fr", Role.FROM), Direction.IN, "sent_and_received", {}, "drop", "automated"),
    (person("jean@acme.fr", Role.TO), Direction.OUT, "sent", {"blocked": True}, "drop", "blocklisted"),
    (person("jean@acme.fr", Role.TO), Direction.OUT, "sent", {"status": "blocklisted"}, "drop", "blocklisted"),
    (person("jean@acme.fr", Role.TO), Direction.OUT, "sent", {"status": "ignored"}, "queue", "ignored"),
    (person("jean@acme.fr", Role.TO), Direction.OUT, "sent", {"status": "attached"}, "drop", "attached"),
    (person("j.d@gmail.com", Role.TO, name=""), Direction.OUT, "sent", {"free_mail": True}, "queue", "without a name"),
    (person("j.d@gmail.com", Role.TO), Direction.OUT, "sent", {"free_mail": True}, "create", "policy"),
    (person("contact@acme.fr", Role.TO), Direction.OUT, "sent", {}, "company", "role address"),
    (person("contact@orange.fr", Role.TO), Direction.OUT, "sent", {"free_mail": True}, "queue", "role address"),
    (person("jean@acme.fr", Role.ATTENDEE), Direction.OUT, "sent", {"interaction_kind": "meeting"}, "queue",
     "meeting"),
])
def test_verdict_table(participant, direction, policy, options, action, why):
    options = {"free_mail": False, "blocked": False, **options}
    result = verdict(participant, direction, policy, **options)
    assert result.action == action and why in result.reason


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> str | None:
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else None


def test_people_we_write_to_become_contacts_and_senders_wait_in_review(tmp_path, database):
    world = World(tmp_path, database=database)
    world.mail(sender=CLAIRE, to="Jean DUPONT <jean.dupont@acme-btp.fr>", subject="Devis n°1", days_ago=5)
    world.mail(sender="Paul Martin <paul@acme-btp.fr>", to=CLAIRE, subject="Question", days_ago=4)
    world.sync()
    jean = world.contact_of("jean.dupont@acme-btp.fr")
    assert (jean.display_name, jean.first_name, jean.last_name) == ("Jean DUPONT", "Jean", "DUPONT")
    assert jean.source == "auto"
    company = world.company_of_domain("acme-btp.fr")
    assert jean.company_id == company
    assert world.links("jean.dupont@acme-btp.fr") == [("Devis n°1", jean.id, "created", company, "created")]
    assert world.contact_of("paul@acme-btp.fr") is None  # received only: the default policy is "sent"
    assert world.links("paul@acme-btp.fr") == [("Question", None, None, company, "domain")]
    [paul] = world.review.unknown()
    assert (paul["address"], paul["name"], paul["count"], paul["sent"]) == ("paul@acme-btp.fr", "Paul Martin", 1, 0)
    assert paul["suggested_company"] == {"id": company, "name": "acme-btp.fr"}
    assert "received only" in paul["why"]
    world.close()


def test_writing_back_later_creates_the_contact_and_links_the_earlier_mail(tmp_path):
    world = World(tmp_path)
    first = world.mail(sender="Thomas Bernard <thomas.bernard@gmail.com>", to=CLAIRE, subject="Cuisine", days_ago=9)
    world.sync()
    assert [u["address"] for u in world.review.unknown()] == ["thomas.bernard@gmail.com"]
    world.mail(sender=CLAIRE, to="Thomas Bernard <thomas.bernard@gmail.com>", subject="Re: Cuisine",
               in_reply_to=first, days_ago=8)
    world.sync()
    thomas = world.contact_of("thomas.bernard@gmail.com")
    assert thomas.company_id is None  # free mail makes no company
    assert world.links("thomas.bernard@gmail.com") == [("Cuisine", thomas.id, "exact", None, None),
                                                       ("Re: Cuisine", thomas.id, "created", None, None)]
    assert world.review.unknown() == []
    with world.service.store.read() as s:
        assert s.scalar(select(ReviewUnknown.status).where(ReviewUnknown.address == "thomas.bernard@gmail.com")) \
            == "created"


def test_policy_none_creates_nothing_and_an_account_can_override_the_default(tmp_path):
    world = World(tmp_path, accounts={"claire": {}, "julien": {"create_contacts": "sent_and_received"}},
                  matching={"create_contacts": "none"})
    world.mail(sender=CLAIRE, to="Jean Dupont <jean@acme-btp.fr>", box="claire")
    world.mail(sender="Lucie Roy <lucie@roy-immo.fr>", to=JULIEN, box="julien")
    world.sync()
    assert world.contact_of("jean@acme-btp.fr") is None
    assert "policy none" in next(u["why"] for u in world.review.unknown() if u["address"] == "jean@acme-btp.fr")
    lucie = world.contact_of("lucie@roy-immo.fr")
    assert lucie is not None and lucie.display_name == "Lucie Roy"


def test_never_created_internal_automated_blocklisted_or_nameless_free_mail(tmp_path):
    world = World(tmp_path, matching={"blocklist": ["spam@vendeur.fr"]})
    world.mail(sender=CLAIRE, to="Julien <julien.petit@atelier-durand.fr>", cc="Vendeur <spam@vendeur.fr>")
    world.mail(sender=CLAIRE, to="noreply@plateforme.fr")
    world.mail(sender=CLAIRE, to="06123@orange.fr")
    world.sync()
    with world.service.store.read() as s:
        assert s.scalars(select(Contact)).all() == []
        assert s.scalars(select(Company)).all() == []
    queued = {u["address"]: u["why"] for u in world.review.unknown()}
    assert queued == {"06123@orange.fr": "free-mail address without a name"}  # machines and blocklist: not queued


def test_a_role_address_we_write_to_makes_its_company_not_a_person(tmp_path):
    world = World(tmp_path)
    world.mail(sender=CLAIRE, to="Boulangerie Lemaire <contact@boulangerie-lemaire.fr>")
    world.mail(sender="Boulangerie Lemaire <contact@boulangerie-lemaire.fr>", to=CLAIRE, days_ago=3)
    world.sync()
    assert world.contact_of("contact@boulangerie-lemaire.fr") is None
    company = world.company_of_domain("boulangerie-lemaire.fr")
    assert company is not None
    assert [link[1:] for link in world.links("contact@boulangerie-lemaire.fr")] == [
        (None, None, company, "created"), (None, None, company, "domain")]
    assert world.review.unknown() == []  # linked to its company: nothing to decide


def test_counts_and_dates_are_exact_across_mailboxes_and_reruns(tmp_path, database):
    world = World(tmp_path, accounts={"claire": {}, "julien": {}}, database=database)
    for box in ("claire", "julien"):  # the same two mails reach both mailboxes
        world._n = 0
        world.mail(sender="Lucie Roy <lucie@roy-immo.fr>", to=CLAIRE, cc=JULIEN, box=box, days_ago=12)
        world.mail(sender="Lucie Roy <lucie@roy-immo.fr>", to=CLAIRE, cc=JULIEN, box=box, days_ago=2)
    world.sync()
    world.sync()
    [lucie] = world.review.unknown()
    assert lucie["count"] == 2 and lucie["sent"] == 0
    assert lucie["first_seen"] == (NOW - timedelta(days=12)).isoformat()
    assert lucie["last_seen"] == (NOW - timedelta(days=2)).isoformat()
    world.mail(sender="Lucie R. <lucie@roy-immo.fr>", to=CLAIRE, box="claire", days_ago=1)
    world.sync()
    [lucie] = world.review.unknown()
    assert (lucie["count"], lucie["name"]) == (3, "Lucie R.")
    world.close()


def test_a_reply_from_a_personal_address_inherits_the_threads_company(tmp_path):
    world = World(tmp_path)
    first = world.mail(sender=CLAIRE, to="Jean Dupont <jean@acme-btp.fr>", subject="Devis", days_ago=6)
    world.mail(sender="Jean Dupont <jean.dupont.perso@gmail.com>", to=CLAIRE, subject="Re: Devis",
               in_reply_to=first, days_ago=5)
    world.mail(sender="Sous-traitant <x@soustraitant.fr>", to=CLAIRE, subject="Re: Devis", in_reply_to=first,
               days_ago=4)
    world.sync()
    company = world.company_of_domain("acme-btp.fr")
    assert world.links("jean.dupont.perso@gmail.com") == [("Re: Devis", None, None, company, "reply-inherited")]
    assert world.links("x@soustraitant.fr") == [("Re: Devis", None, None, None, None)]  # another company's domain
