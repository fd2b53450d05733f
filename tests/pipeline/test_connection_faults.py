"""Connection trouble between crm-agent and the IMAP server, through a fault-injecting proxy: a dropped connection
mid-backfill or a server that stops answering is a temporary failure (state, back-off), never a duplicate."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from agent.connectors.imap import connector as imap_module
from agent.store.models import Interaction, Sighting, SyncTarget
from tests.support.env import imap_spec, make_service
from tests.support.messages import bulk

pytestmark = pytest.mark.servers


def spec_through(proxy, dovecot, user, **extra):
    return {**imap_spec(dovecot, user, folders=["INBOX"]), "port": proxy.port, **extra}


def counts(service):
    with service.store.read() as s:
        return (s.scalar(select(func.count()).select_from(Interaction)), s.scalar(select(func.count()).select_from(Sighting)))


def target_state(service):
    with service.store.read() as s:
        t = s.scalar(select(SyncTarget))
        return t.status, t.error_kind, t.last_error


def test_connections_dropped_mid_backfill_then_a_rerun_completes_without_duplicates(
        tmp_path, dovecot, imap_user, fault_proxy, monkeypatch):
    dovecot.write_messages(imap_user, "INBOX", bulk(1500))
    proxy = fault_proxy(dovecot.port)
    service = make_service(tmp_path, [spec_through(proxy, dovecot, imap_user)], sync={"batch_size": 200})
    real, calls = imap_module.ImapConnector._fetch_set, {"n": 0}

    def drop_on_third(self, folder, uid_set):
        calls["n"] += 1
        if calls["n"] == 3:
            proxy.drop_all()  # the server vanishes while a batch is on the wire
        return real(self, folder, uid_set)

    monkeypatch.setattr(imap_module.ImapConnector, "_fetch_set", drop_on_third)
    result = service.sync()
    assert result["totals"]["failed"] == 1
    status, kind, error = target_state(service)
    assert (status, kind) == ("FAILED", "temporary") and "connection" in error.lower()
    partial = counts(service)[0]
    assert 0 < partial < 1500
    monkeypatch.undo()
    with service.store.unit_of_work() as s:  # skip the back-off wait
        s.scalar(select(SyncTarget)).next_attempt_at = None
    assert service.sync()["totals"]["failed"] == 0
    assert counts(service) == (1500, 1500)
    assert target_state(service)[0] == "ACTIVE"


def test_a_server_that_stops_answering_times_out_instead_of_hanging(tmp_path, dovecot, imap_user, fault_proxy):
    dovecot.multiappend(imap_user, "INBOX", bulk(5))
    proxy = fault_proxy(dovecot.port)
    service = make_service(tmp_path, [spec_through(proxy, dovecot, imap_user, timeout=1.5)])
    service.sync()
    proxy.pause()
    done = threading.Event()
    outcome = {}

    def sync() -> None:
        outcome["result"] = service.sync()
        done.set()

    threading.Thread(target=sync, daemon=True).start()
    assert done.wait(30), "the sync hung on a silent server"
    proxy.resume()
    assert outcome["result"]["totals"]["failed"] == 1
    assert target_state(service)[:2] == ("FAILED", "temporary")
