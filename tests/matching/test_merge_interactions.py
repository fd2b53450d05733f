"""Interactions merge by identity across every account: Message-ID, iCal UID, content hash when there is no id;
a reused Message-ID with other content keeps both mails apart and says so."""

from __future__ import annotations

from sqlalchemy import func, select

from agent.clock import FakeClock
from agent.store.models import Interaction, Sighting
from tests.matching.review_world import CLAIRE, JULIEN, NOW, World
from tests.support.env import make_service
from tests.meetings.support import calendar, vevent


def interactions(world) -> list[tuple[str, str, int]]:
    """(identity key, subject, sightings) of every interaction."""
    with world.service.store.read() as s:
        rows = s.execute(select(Interaction.identity_key, Interaction.subject, func.count(Sighting.id))
                         .join(Sighting, Sighting.interaction_id == Interaction.id)
                         .group_by(Interaction.id).order_by(Interaction.id)).all()
    return [tuple(r) for r in rows]


def test_one_mail_in_two_mailboxes_is_one_interaction_seen_twice(tmp_path):
    world = World(tmp_path, accounts={"claire": {}, "julien": {}})
    for box in ("claire", "julien"):
        world._n = 0
        world.mail(sender="Lucie Roy <lucie@roy-immo.fr>", to=CLAIRE, cc=JULIEN, box=box, subject="Visite")
    world.sync()
    world.sync()
    assert interactions(world) == [("mid:m1@test.atelier-durand.fr", "Visite", 2)]
    [row] = world.service.interactions()
    assert row["mailboxes"] == ["claire/INBOX", "julien/INBOX"]


def test_without_message_id_the_content_hash_is_the_identity(tmp_path):
    world = World(tmp_path, accounts={"claire": {}, "julien": {}})
    for box in ("claire", "julien"):
        world._n = 0
        world.mail(sender="Formulaire <web@roy-immo.fr>", to=CLAIRE, box=box, subject="Demande de contact",
                   message_id=None)
    world.mail(sender="Formulaire <web@roy-immo.fr>", to=CLAIRE, box="claire", subject="Autre demande",
               message_id=None, body="Un autre texte.\n")
    world.sync()
    rows = interactions(world)
    assert [(key.split(":")[0], subject, seen) for key, subject, seen in rows] == [
        ("hash", "Demande de contact", 2), ("hash", "Autre demande", 1)]
    with world.service.store.read() as s:
        first = s.scalar(select(Interaction.id).where(Interaction.subject == "Demande de contact"))
    assert "content hash" in world.service.explain(str(first))["identity"]


def test_a_reused_message_id_never_swallows_another_mail(tmp_path):
    world = World(tmp_path, accounts={"claire": {}, "julien": {}})
    world.mail(sender="Lucie Roy <lucie@roy-immo.fr>", to=CLAIRE, box="claire", subject="Devis signé",
               message_id="fixed@roy-immo.fr", days_ago=5)
    world.mail(sender="Escroc <compta@roy-immo.fr.example>", to=JULIEN, box="julien", subject="Changement de RIB",
               message_id="fixed@roy-immo.fr", days_ago=1)
    world.sync()
    rows = interactions(world)
    assert [(subject, seen) for _, subject, seen in rows] == [("Devis signé", 1), ("Changement de RIB", 1)]
    assert rows[0][0] == "mid:fixed@roy-immo.fr" and rows[1][0].startswith("mid:fixed@roy-immo.fr#")
    with world.service.store.read() as s:
        forged = s.scalar(select(Interaction).where(Interaction.subject == "Changement de RIB"))
        assert forged.details["message_id_conflict"] is True
        forged_id = forged.id
    assert "already used by a different message" in world.service.explain(str(forged_id))["identity"]


def test_one_meeting_in_two_calendars_is_one_interaction(tmp_path):
    accounts = []
    for name in ("agenda-claire", "agenda-julien"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "visite.ics").write_bytes(calendar(vevent(
            "visite-42@atelier-durand.fr", "20261124T093000", "20261124T103000", summary="Visite chantier")))
        accounts.append({"name": name, "kind": "ics", "path": str(tmp_path / name)})
    service = make_service(tmp_path, accounts, clock=FakeClock(NOW))
    service.sync()
    with service.store.read() as s:
        rows = s.execute(select(Interaction.identity_key, func.count(Sighting.id))
                         .join(Sighting, Sighting.interaction_id == Interaction.id).group_by(Interaction.id)).all()
    assert [tuple(r) for r in rows] == [("ical:visite-42@atelier-durand.fr", 2)]
    service.close()
