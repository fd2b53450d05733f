"""The EWS connector through exchangelib against the local EWS server: no probing, paging, errors, visibility."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from agent.connectors.ews.connector import EwsConnector
from agent.errors import AuthError, CursorInvalid, TemporaryError, UserError
from agent.pipeline.parse_email import parse_email
from agent.records import TargetRef
from tests.connectors.contract import list_all
from tests.microsoft.fixtures import ews_spec, settings_for
from tests.support.messages import bulk, make_message

INBOX = TargetRef("ews", "inbox", "mail", "inbox")


def connector(ews, workspace, **extra) -> EwsConnector:
    return EwsConnector(settings_for(workspace, ews_spec(ews, "ews", calendar=False, **extra)).accounts[0])


def field_uris(request) -> set[str]:
    root = etree.fromstring(request.body)
    return {e.get("FieldURI") for e in root.iter("{http://schemas.microsoft.com/exchange/services/2006/types}FieldURI")}


def test_no_probing_requests_and_the_configured_version_on_every_request(ews_server, tmp_workspace):
    ews_server.mailbox.add_messages("inbox", bulk(2))
    conn = connector(ews_server, tmp_workspace, server_version="Exchange2013_SP1")
    targets = conn.discover()
    list_all(conn, targets[0], "")
    assert [t.name for t in targets] == ["inbox", "sentitems"]
    assert [t.role for t in targets] == ["inbox", "sent"]
    # the first request is already work: no version guess, no autodiscover, no auth negotiation round
    assert ews_server.operations[0] == "GetFolder"
    assert set(ews_server.operations) <= {"GetFolder", "SyncFolderItems"}
    assert all(b'RequestServerVersion Version="Exchange2013_SP1"' in r.body for r in ews_server.requests)
    assert all(r.headers["authorization"].startswith("Basic ") for r in ews_server.requests)


def test_each_page_is_one_sync_folder_items_answer_and_the_state_advances(ews_server, tmp_workspace):
    ews_server.mailbox.add_messages("inbox", bulk(5))
    conn = connector(ews_server, tmp_workspace)
    cursors, seen = [], []
    cursor, more = "", True
    while more:
        changes = conn.list_changes(INBOX, cursor, limit=2)
        seen.extend(r.location for r in changes.upserts)
        cursor, more = changes.next_cursor, changes.more
        cursors.append(cursor)
        assert changes.is_full
    assert len(seen) == len(set(seen)) == 5
    assert len(cursors) == 3 and len(set(cursors)) == 3
    sync_requests = [r for r in ews_server.requests if b"SyncFolderItems" in r.body]
    assert all(b"<m:MaxChangesReturned>2</m:MaxChangesReturned>" in r.body for r in sync_requests)
    ews_server.mailbox.touch(ews_server.mailbox.in_folder(ews_server.mailbox.folder("inbox").id)[0].id)
    changes = conn.list_changes(INBOX, cursor, limit=10)
    assert len(changes.upserts) == 1 and not changes.is_full and not changes.more
    assert changes.upserts[0].version.endswith("00000002")  # the new change key


def test_server_busy_is_a_temporary_error_with_the_servers_back_off_and_no_wait(ews_server, tmp_workspace):
    ews_server.mailbox.add_messages("inbox", bulk(1))
    conn = connector(ews_server, tmp_workspace)
    conn.discover()
    ews_server.busy(back_off_ms=30_000)
    started = time.monotonic()
    with pytest.raises(TemporaryError) as caught:
        conn.list_changes(INBOX, "", limit=10)
    assert caught.value.retry_after == pytest.approx(30.0)
    assert time.monotonic() - started < 5  # fail-fast: the engine schedules the retry, nothing sleeps here
    upserts, _, _, _ = list_all(conn, INBOX, "")  # the next attempt works
    assert len(upserts) == 1


def test_invalid_sync_state_is_cursor_invalid(ews_server, tmp_workspace):
    ews_server.mailbox.add_messages("inbox", bulk(2))
    conn = connector(ews_server, tmp_workspace)
    _, _, cursor, _ = list_all(conn, INBOX, "")
    ews_server.mailbox.invalidate("inbox")
    with pytest.raises(CursorInvalid, match="ErrorInvalidSyncStateData"):
        conn.list_changes(INBOX, cursor, limit=10)


def test_an_operation_the_server_does_not_know_fails_loudly(ews_server, tmp_workspace):
    conn = connector(ews_server, tmp_workspace)
    from exchangelib.errors import ErrorInvalidOperation

    with pytest.raises(ErrorInvalidOperation, match="not implemented"):
        conn.ews.protocol.resolve_names(["claire"])


def test_wrong_password_is_an_auth_error(ews_server, tmp_workspace):
    conn = connector(ews_server, tmp_workspace, password="wrong")
    with pytest.raises(AuthError):
        conn.discover()


def test_metadata_visibility_never_asks_for_the_body(ews_server, tmp_workspace):
    raw = make_message(
        1,
        subject="Devis n°42 — été",
        sender="Élodie Martin <elodie@acme.fr>",
        extra_headers={"List-Id": "<offres.acme.fr>", "Auto-Submitted": "auto-generated"},
    )
    ews_server.mailbox.add_messages("inbox", [raw])
    conn = connector(ews_server, tmp_workspace, visibility="metadata")
    upserts, _, _, _ = list_all(conn, INBOX, "")
    [item] = list(conn.fetch(INBOX, upserts))
    get_items = [r for r in ews_server.requests if b"<m:GetItem" in r.body]
    assert get_items and all("item:MimeContent" not in field_uris(r) for r in get_items)
    assert b"Bonjour" not in item.data  # no body crossed the network
    parsed = parse_email(item.data)
    assert parsed.message_id == "msg1@acme.fr"
    assert parsed.subject == "Devis n°42 — été"
    assert parsed.from_[0].address == "elodie@acme.fr" and parsed.from_[0].name == "Élodie Martin"
    assert parsed.header("list-id") == "<offres.acme.fr>"
    assert parsed.header("auto-submitted") == "auto-generated"
    assert not parsed.repairs


def test_snippet_visibility_fetches_the_message_source(ews_server, tmp_workspace):
    raw = make_message(2)
    ews_server.mailbox.add_messages("inbox", [raw])
    conn = connector(ews_server, tmp_workspace, visibility="snippet")
    upserts, _, _, _ = list_all(conn, INBOX, "")
    [item] = list(conn.fetch(INBOX, upserts))
    assert item.data == raw
    assert any("item:MimeContent" in field_uris(r) for r in ews_server.requests if b"<m:GetItem" in r.body)


def test_a_folder_below_the_root_is_found_by_its_path(ews_server, tmp_workspace):
    mailbox = ews_server.mailbox
    clients = mailbox.add_folder("Clients", parent=mailbox.folder("msgfolderroot").id)
    acme = mailbox.add_folder("Acme", parent=clients.id)
    mailbox.add_messages(acme.id, bulk(3))
    conn = connector(ews_server, tmp_workspace, folders=["Clients/Acme"])
    [target] = conn.discover()
    assert (target.name, target.role, target.display) == ("Clients/Acme", "other", "Acme")
    upserts, _, _, _ = list_all(conn, target, "")
    assert len(upserts) == 3
    with pytest.raises(UserError, match="Clients/Nobody"):
        connector(ews_server, tmp_workspace, folders=["Clients/Nobody"]).discover()


def test_a_private_certificate_authority_is_trusted_through_ca_file(ews_session, identity_server, tmp_workspace):
    from tests.microsoft.ews_server import EwsServer
    from tests.microsoft.fixtures import EWS_PASSWORD, USER
    from tests.microsoft.mailbox import Mailbox

    with EwsServer(Mailbox(USER), users={USER: EWS_PASSWORD}, cert=identity_server.cert) as tls_server:
        tls_server.mailbox.add_messages("inbox", bulk(1))
        with pytest.raises(AuthError, match="TLS certificate"):
            connector(tls_server, tmp_workspace).discover()
        trusted = connector(tls_server, tmp_workspace, ca_file=str(identity_server.cert_path))
        assert len(list_all(trusted, INBOX, "")[0]) == 1
        trusted.close()


def test_oauth2_sends_the_signed_in_token_as_bearer(identity_server, tmp_workspace):
    from agent.auth.store import TokenStore
    from tests.microsoft.ews_server import EwsServer
    from tests.microsoft.fixtures import USER, oauth_table, sign_in
    from tests.microsoft.mailbox import Mailbox

    # a bearer token only travels over TLS (requests-oauthlib refuses plain HTTP), so this server speaks HTTPS
    with EwsServer(Mailbox(USER), identity=identity_server, cert=identity_server.cert) as tls_server:
        tls_server.mailbox.add_messages("inbox", bulk(2))
        spec = ews_spec(tls_server, "ews", calendar=False, auth="oauth2", password=None,
                        oauth2=oauth_table(identity_server), ca_file=str(identity_server.cert_path))
        account = settings_for(tmp_workspace, spec).accounts[0]
        store = TokenStore([account], directory=tmp_workspace / "tokens")
        sign_in(store, "ews", identity_server)
        scopes = list(identity_server.access_tokens.values())[-1].scopes
        assert scopes[0] == "https://outlook.office365.com/EWS.AccessAsUser.All"
        conn = EwsConnector(account, token_store=store)
        assert len(list_all(conn, INBOX, "")[0]) == 2
        token = list(identity_server.access_tokens)[-1]
        assert {r.headers["authorization"] for r in tls_server.requests} == {f"Bearer {token}"}
        conn.close()
