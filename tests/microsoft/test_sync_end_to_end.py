"""Microsoft accounts through the whole agent (AgentService.sync, engine, pipeline, store) against the local servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from agent.auth.store import TokenStore
from agent.clock import FakeClock
from agent.store.models import Interaction, SyncTarget
from tests.microsoft.calendar_cases import add_meetings, expected_identities
from tests.microsoft.fixtures import ews_spec, m365_spec, sign_in
from tests.support.env import make_service
from tests.support.messages import bulk

NOW = datetime(2026, 10, 1, 8, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_workspace, monkeypatch):
    monkeypatch.setenv("CRM_AGENT_DATA_DIR", str(tmp_workspace))  # where the sync's token store reads
    return tmp_workspace


def count(service, *where) -> int:
    with service.store.read() as session:
        return session.scalar(select(func.count()).select_from(Interaction).where(*where)) or 0


def test_ews_mail_and_meetings_are_stored_once_even_after_a_resync(ews_server, data_dir):
    ews_server.mailbox.add_messages("inbox", bulk(4))
    add_meetings(ews_server.mailbox)
    service = make_service(data_dir, [ews_spec(ews_server, "exchange")], clock=FakeClock(NOW))
    first = service.sync()
    assert first["totals"]["failed"] == 0, first
    assert count(service, Interaction.kind == "email") == 4
    with service.store.read() as session:
        keys = set(session.scalars(select(Interaction.identity_key).where(Interaction.kind == "meeting")))
    assert keys == expected_identities()  # the identities CalDAV gives the same meetings: one interaction each
    ews_server.mailbox.invalidate("inbox")
    again = service.sync()
    inbox = next(t for t in again["targets"] if t["target"] == "Inbox")
    assert inbox["full"] is True and again["totals"]["failed"] == 0
    assert count(service, Interaction.kind == "email") == 4 and again["totals"]["created"] == 0


def test_m365_sync_then_a_revoked_sign_in_is_failed_auth_with_the_fix_and_no_retry(
    graph_server, identity_server, data_dir
):
    graph_server.mailbox.add_messages("inbox", bulk(3))
    spec = m365_spec(identity_server, graph_server, "bureau", calendar=False)
    service = make_service(data_dir, [spec], clock=FakeClock(NOW))
    sign_in(TokenStore(service.settings.accounts), "bureau", identity_server)
    assert service.sync()["totals"]["failed"] == 0
    assert count(service) == 3

    identity_server.revoke("claire@atelier-durand.fr")
    result = service.sync()
    assert {t["status"] for t in result["targets"]} == {"FAILED_AUTH"}
    assert all("run crm-agent accounts login bureau" in t["error"] for t in result["targets"])
    with service.store.read() as session:
        states = [(t.status, t.next_attempt_at) for t in session.scalars(select(SyncTarget))]
    assert states == [("FAILED_AUTH", None)] * 2  # inbox and sent: waiting for a new sign-in, not retried
    graph_before, identity_before = len(graph_server.requests), len(identity_server.requests)
    again = service.sync(only_due=True)
    assert {t["status"] for t in again["targets"]} <= {"FAILED_AUTH"}  # nothing due: the targets wait for a login
    with service.store.read() as session:
        assert {t.status for t in session.scalars(select(SyncTarget))} == {"FAILED_AUTH"}
    # not a retry loop: the refused sign-in is remembered, no request leaves until `accounts login` succeeds
    assert (len(graph_server.requests), len(identity_server.requests)) == (graph_before, identity_before)
    status = service.status()
    assert any("FAILED_AUTH" in p and "accounts login bureau" in p for p in status["problems"])
