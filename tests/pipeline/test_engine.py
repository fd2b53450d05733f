"""The two-step engine: nothing lost, nothing duplicated, whatever happens between and inside the steps."""

from __future__ import annotations

import mailbox

import pytest
from sqlalchemy import func, select

from agent.connectors.localmail import LocalMailConnector
from agent.pipeline import run as run_module
from agent.pipeline import stages
from agent.pipeline.account_sync import sync_account
from agent.store.models import Interaction, PendingRef, Sighting, SkippedItem, SyncTarget
from tests.support.env import maildir_spec, make_service
from tests.support.messages import bulk, make_message


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the engine may swallow it."""


class CrashingConnector(LocalMailConnector):
    def __init__(self, *args, crash_on_fetch: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.crash_on_fetch = crash_on_fetch
        self.fetch_calls = 0
        self.fetched: list[str] = []

    def fetch(self, target, refs):
        self.fetch_calls += 1
        if self.crash_on_fetch is not None and self.fetch_calls >= self.crash_on_fetch:
            raise Crash()
        for raw in super().fetch(target, refs):
            self.fetched.append(raw.ref.location)
            yield raw


def counts(service) -> dict[str, int]:
    with service.store.read() as s:
        return {
            "interactions": s.scalar(select(func.count()).select_from(Interaction)),
            "sightings": s.scalar(select(func.count()).select_from(Sighting)),
            "pending": s.scalar(select(func.count()).select_from(PendingRef)),
            "skipped": s.scalar(select(func.count()).select_from(SkippedItem)),
            "removed": s.scalar(select(func.count()).select_from(Interaction).where(Interaction.removed_at.is_not(None))),
        }


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    return box


def fill(box, messages):
    for data in messages:
        box.add(data)


def run(service, connector, **kw):
    account = service.settings.accounts[0]
    return sync_account(service.store, service.settings, account, service.clock, connector=connector, **kw)


def test_backfill_then_rerun_changes_nothing(tmp_path, maildir):
    fill(maildir, bulk(20))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    first = service.sync()
    assert first["totals"]["created"] == 20
    again = service.sync()
    assert again["totals"] == {"created": 0, "duplicates": 0, "updated": 0, "skipped": 0, "deleted": 0, "failed": 0}
    assert counts(service)["interactions"] == 20


@pytest.mark.parametrize("crash_on_fetch", [1, 2, 3])
def test_crash_between_list_and_import_loses_and_duplicates_nothing(tmp_path, maildir, crash_on_fetch):
    fill(maildir, bulk(25))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")], sync={"batch_size": 10})
    crashing = CrashingConnector("local", tmp_path / "Mail", crash_on_fetch=crash_on_fetch)
    with pytest.raises(Crash):
        run(service, crashing)
    before = counts(service)
    assert before["interactions"] == 10 * (crash_on_fetch - 1)  # whole batches committed, nothing half-written
    assert before["pending"] == 25 - before["interactions"]
    healthy = CrashingConnector("local", tmp_path / "Mail")
    run(service, healthy)
    after = counts(service)
    assert after["interactions"] == 25 and after["sightings"] == 25 and after["pending"] == 0
    assert len(healthy.fetched) == 25 - before["interactions"]  # the resumed run fetched only what was missing


def test_failure_inside_a_batch_rolls_the_whole_batch_back(tmp_path, maildir, monkeypatch):
    fill(maildir, bulk(12))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")], sync={"batch_size": 5})
    calls = {"n": 0}
    real = stages.upsert

    def upsert_then_die(batch):
        real(batch)
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash()

    monkeypatch.setattr(run_module, "STAGES", tuple(upsert_then_die if s is real else s for s in run_module.STAGES))
    with pytest.raises(Crash):
        service.sync()
    assert counts(service)["interactions"] == 5  # the second batch wrote, then died: rolled back
    monkeypatch.undo()
    service.sync()
    assert counts(service)["interactions"] == 12 and counts(service)["sightings"] == 12


def test_new_mail_after_a_sync_fetches_only_the_new_mail(tmp_path, maildir):
    fill(maildir, bulk(15))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    run(service, CrashingConnector("local", tmp_path / "Mail"))
    fill(maildir, bulk(4, start=500))
    connector = CrashingConnector("local", tmp_path / "Mail")
    run(service, connector)
    assert len(connector.fetched) == 4
    assert counts(service)["interactions"] == 19


def test_same_message_in_two_accounts_is_one_interaction_with_two_sightings(tmp_path):
    shared = make_message(1, sender="claire@atelier-durand.fr", to="client@acme.fr", cc="julien@atelier-durand.fr")
    for n, name in enumerate(("claire", "julien")):
        box = mailbox.Maildir(tmp_path / name, create=True)
        box.add(shared)
        box.add(make_message(10 + n))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "claire", "claire"), maildir_spec(tmp_path / "julien", "julien")])
    service.sync()
    assert counts(service)["interactions"] == 3
    assert counts(service)["sightings"] == 4
    explained = service.explain("<msg1@acme.fr>")
    assert {s["mailbox"] for s in explained["sightings"]} == {"claire/INBOX", "julien/INBOX"}


def test_deleted_mail_leaves_the_timeline_history_but_loses_its_sighting(tmp_path, maildir):
    fill(maildir, bulk(5))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    service.sync()
    maildir.remove(sorted(maildir.keys())[0])
    result = service.sync()
    assert result["totals"]["deleted"] == 1
    c = counts(service)
    assert c["interactions"] == 5 and c["sightings"] == 4 and c["removed"] == 1


def test_remote_unexpectedly_empty_deletes_nothing(tmp_path, maildir):
    fill(maildir, bulk(30))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")], sync={"empty_guard": 20})
    service.sync()
    for key in list(maildir.keys()):
        maildir.remove(key)
    result = service.sync()
    assert result["totals"]["failed"] == 1
    assert "remote unexpectedly empty" in result["targets"][0]["error"]
    assert counts(service)["sightings"] == 30
    with service.store.read() as s:
        target = s.scalar(select(SyncTarget))
        assert target.status == "FAILED" and target.error_kind == "empty"


def test_dry_run_writes_nothing_but_says_what_it_would_create(tmp_path, maildir):
    fill(maildir, bulk(8))
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    result = service.sync(dry_run=True)
    assert result["totals"]["created"] == 8
    assert counts(service)["interactions"] == 0 and counts(service)["pending"] == 0
    assert service.sync()["totals"]["created"] == 8


def test_noise_is_skipped_with_its_reason_and_explained(tmp_path, maildir):
    fill(maildir, [
        make_message(1),
        make_message(2, sender="news@shop.fr", extra_headers={"List-Id": "<news.shop.fr>", "List-Unsubscribe": "<mailto:u@shop.fr>"}),
        make_message(3, extra_headers={"Auto-Submitted": "auto-replied"}, subject="Réponse automatique : absent"),
    ])
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    result = service.sync()
    assert result["totals"]["created"] == 1 and result["totals"]["skipped"] == 2
    why = service.explain("<msg2@acme.fr>")
    assert why["found"] == "skipped" and why["reason"].startswith("bulk")
    assert service.explain("<msg3@acme.fr>")["reason"].startswith("automated")


def test_direction_and_internal_mail(tmp_path, maildir):
    fill(maildir, [
        make_message(1, sender="claire@atelier-durand.fr", to="client@acme.fr"),
        make_message(2, sender="client@acme.fr", to="claire@atelier-durand.fr"),
        make_message(3, sender="claire@atelier-durand.fr", to="julien@atelier-durand.fr"),
    ])
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    service.sync()
    directions = {i["subject"]: i["direction"] for i in service.interactions()}
    assert directions == {"Demande de devis n°1": "out", "Demande de devis n°2": "in"}
    assert service.explain("<msg3@acme.fr>")["reason"] == "internal"


def test_reused_message_id_does_not_swallow_a_different_message(tmp_path, maildir):
    fill(maildir, [make_message(1, message_id="<same@x>"), make_message(2, message_id="<same@x>", sender="other@else.fr")])
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    service.sync()
    assert counts(service)["interactions"] == 2
    keys = sorted(i["identity_key"] for i in (service.explain(str(n))["interaction"] for n in (1, 2)))
    assert keys[0] == "mid:same@x" and keys[1].startswith("mid:same@x#")


def test_a_mail_without_message_id_is_one_interaction_whatever_the_visibility(tmp_path):
    no_id = make_message(1, message_id=None)
    for name in ("full", "meta"):
        mailbox.Maildir(tmp_path / name, create=True).add(no_id)
    service = make_service(tmp_path, [maildir_spec(tmp_path / "full", "full", visibility="full"),
                                      maildir_spec(tmp_path / "meta", "meta", visibility="metadata")])
    service.sync()
    assert counts(service)["interactions"] == 1 and counts(service)["sightings"] == 2
