"""End to end from Dovecot: UIDVALIDITY reset, two accounts sharing a message, only new mail fetched."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agent.store.models import Interaction, Sighting
from tests.support.env import imap_spec, make_service
from tests.support.messages import bulk, make_message

pytestmark = pytest.mark.servers


def counts(service):
    with service.store.read() as s:
        return (s.scalar(select(func.count()).select_from(Interaction)),
                s.scalar(select(func.count()).select_from(Sighting)),
                s.scalar(select(func.count()).select_from(Interaction).where(Interaction.removed_at.is_not(None))))


def test_uidvalidity_reset_resyncs_fully_without_duplicates(tmp_path, dovecot, imap_user):
    dovecot.multiappend(imap_user, "INBOX", bulk(12))
    service = make_service(tmp_path, [imap_spec(dovecot, imap_user, folders=["INBOX"])])
    service.sync()
    dovecot.set_uidvalidity_change(imap_user, "INBOX")
    result = service.sync()
    assert result["totals"]["created"] == 0 and result["totals"]["duplicates"] == 12
    assert result["targets"][0]["full"] is True
    assert counts(service) == (12, 12, 0)  # old locations gone, new ones point at the same interactions


def test_the_same_message_in_two_imap_accounts_is_one_interaction_two_sightings(tmp_path, dovecot):
    dovecot.add_user("claire@example.org", "pw1")
    dovecot.add_user("julien@example.org", "pw2")
    shared = make_message(1, sender="claire.martin@atelier-durand.fr", to="client@acme.fr",
                          cc="julien.petit@atelier-durand.fr")
    dovecot.multiappend("claire@example.org", "Sent", [shared])
    dovecot.multiappend("julien@example.org", "INBOX", [shared, make_message(2)])
    service = make_service(tmp_path, [imap_spec(dovecot, "claire@example.org", "claire"),
                                      imap_spec(dovecot, "julien@example.org", "julien")])
    service.sync()
    assert counts(service) == (2, 3, 0)
    seen = {s["mailbox"] for s in service.explain("<msg1@acme.fr>")["sightings"]}
    assert seen == {"claire/Sent", "julien/INBOX"}


def test_after_a_sync_only_new_mail_is_fetched(tmp_path, dovecot, imap_user, monkeypatch):
    from agent.connectors.imap import connector as imap_module

    dovecot.multiappend(imap_user, "INBOX", bulk(30))
    service = make_service(tmp_path, [imap_spec(dovecot, imap_user, folders=["INBOX"])])
    service.sync()
    fetched: list[str] = []
    real = imap_module.ImapConnector._fetch_set

    def spy(self, folder, uid_set):
        items = real(self, folder, uid_set)
        fetched.extend(str(i.uid) for i in items)
        return items

    monkeypatch.setattr(imap_module.ImapConnector, "_fetch_set", spy)
    dovecot.multiappend(imap_user, "INBOX", bulk(3, start=100))
    result = service.sync()
    assert len(fetched) == 3 and result["totals"]["created"] == 3
    assert service.sync()["totals"]["created"] == 0 and len(fetched) == 3


def test_expunged_mail_is_reported_and_history_kept(tmp_path, dovecot, imap_user):
    dovecot.multiappend(imap_user, "INBOX", bulk(5))
    service = make_service(tmp_path, [imap_spec(dovecot, imap_user, folders=["INBOX"])])
    service.sync()
    client = dovecot.connect(imap_user)
    client.select_folder("INBOX")
    client.delete_messages(client.search("ALL")[:2])
    client.expunge()
    client.logout()
    assert service.sync()["totals"]["deleted"] == 2
    assert counts(service) == (5, 3, 2)
