"""The Microsoft 365 connector against the local Graph server: headers, delta paging, throttling, least privilege."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from agent.auth.store import TokenStore
from agent.clock import FakeClock
from agent.connectors.graph.connector import GraphConnector
from agent.errors import AuthError, CursorInvalid, TemporaryError
from agent.pipeline.parse_email import parse_email
from agent.records import TargetRef
from tests.connectors.contract import list_all
from tests.microsoft.calendar_cases import add_meetings, caldav_ics, expected_identities, meetings_of
from tests.microsoft.fixtures import m365_spec, settings_for, sign_in
from tests.microsoft.http_base import Response
from tests.support.messages import bulk, make_message

INBOX = TargetRef("m365", "inbox", "mail", "inbox")
CALENDAR = TargetRef("m365", "calendar", "calendar", "calendar")
NOW = datetime(2026, 10, 1, 8, tzinfo=UTC)


def signed_in(graph, identity, workspace, *, clock=None, **extra) -> tuple[GraphConnector, TokenStore]:
    settings = settings_for(workspace, m365_spec(identity, graph, "m365", **extra))
    store = TokenStore(settings.accounts, directory=workspace / "tokens")
    sign_in(store, "m365", identity)
    return GraphConnector(settings.accounts[0], token_store=store, clock=clock or FakeClock(NOW)), store


def test_every_request_asks_for_immutable_ids_and_carries_the_token(graph_server, identity_server, tmp_workspace):
    graph_server.mailbox.add_messages("inbox", bulk(2))
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace)
    assert [(t.name, t.role, t.display) for t in conn.discover()] == [
        ("inbox", "inbox", "Inbox"),
        ("sentitems", "sent", "Sent Items"),
        ("calendar", "calendar", "Calendar"),
    ]
    list_all(conn, INBOX, "")
    assert graph_server.requests
    for request in graph_server.requests:
        assert 'IdType="ImmutableId"' in request.headers["prefer"]
        assert request.headers["authorization"].startswith("Bearer at-")
        assert request.path.startswith("/v1.0/me/")  # a person's own sign-in: /me


def test_delta_pages_follow_next_links_then_keep_the_delta_link(graph_server, identity_server, tmp_workspace):
    graph_server.mailbox.add_messages("inbox", bulk(7))
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace)
    cursor, seen, pages = "", [], 0
    while True:
        changes = conn.list_changes(INBOX, cursor, limit=3)
        pages += 1
        seen += [r.location for r in changes.upserts]
        cursor = changes.next_cursor
        assert changes.is_full
        if not changes.more:
            break
        assert "$skiptoken=" in cursor
    assert pages == 3 and len(set(seen)) == 7
    assert "$deltatoken=" in cursor
    assert all("odata.maxpagesize=3" in r.headers["prefer"] for r in graph_server.requests if "delta" in r.path)
    graph_server.mailbox.delete_messages("inbox", 1)
    graph_server.mailbox.add_messages("inbox", bulk(1, start=50))
    changes = conn.list_changes(INBOX, cursor, limit=3)
    assert (len(changes.upserts), len(changes.deletes), changes.is_full, changes.more) == (1, 1, False, False)


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_honours_retry_after(graph_server, identity_server, tmp_workspace, status):
    graph_server.mailbox.add_messages("inbox", bulk(1))
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace)
    conn.discover()
    graph_server.fail_next(
        "/messages/delta",
        Response.json(
            {"error": {"code": "ApplicationThrottled", "message": "Application is over its MailboxConcurrency limit."}},
            status,
            **{"Retry-After": "17"},
        ),
    )
    with pytest.raises(TemporaryError) as caught:
        conn.list_changes(INBOX, "", limit=10)
    assert caught.value.retry_after == 17
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    graph_server.fail_next("/messages/delta", Response(429, b"{}", {"Retry-After": when}))
    with pytest.raises(TemporaryError) as caught:
        conn.list_changes(INBOX, "", limit=10)
    assert 100 < caught.value.retry_after <= 120
    assert len(list_all(conn, INBOX, "")[0]) == 1  # then it works


def test_an_expired_delta_token_is_cursor_invalid(graph_server, identity_server, tmp_workspace):
    graph_server.mailbox.add_messages("inbox", bulk(2))
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace)
    _, _, cursor, _ = list_all(conn, INBOX, "")
    graph_server.mailbox.invalidate("inbox")
    with pytest.raises(CursorInvalid, match="410"):
        conn.list_changes(INBOX, cursor, limit=10)


def test_metadata_visibility_signs_in_with_mail_read_basic_and_never_reads_a_body(
    graph_server, identity_server, tmp_workspace
):
    raw = make_message(
        3,
        subject="Relance devis n°42 — urgent",
        sender="Élodie Martin <elodie@acme.fr>",
        in_reply_to="<msg2@atelier-durand.fr>",
        extra_headers={"List-Unsubscribe": "<mailto:u@acme.fr>"},
    )
    graph_server.mailbox.add_messages("inbox", [raw])
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace, visibility="metadata")
    scopes = list(identity_server.access_tokens.values())[-1].scopes
    assert (
        "https://graph.microsoft.com/Mail.ReadBasic" in scopes and "https://graph.microsoft.com/Mail.Read" not in scopes
    )
    upserts, _, _, _ = list_all(conn, INBOX, "")
    [item] = list(conn.fetch(INBOX, upserts))
    assert not [r for r in graph_server.requests if r.path.endswith("/$value")]
    parsed = parse_email(item.data)
    assert (parsed.message_id, parsed.subject, parsed.in_reply_to) == (
        "msg3@acme.fr",
        "Relance devis n°42 — urgent",
        "msg2@atelier-durand.fr",
    )
    assert parsed.from_[0].name == "Élodie Martin" and parsed.header("list-unsubscribe") == "<mailto:u@acme.fr>"
    assert b"Bonjour" not in item.data


def test_snippet_visibility_reads_the_mime_source_with_mail_read(graph_server, identity_server, tmp_workspace):
    raw = make_message(4)
    graph_server.mailbox.add_messages("inbox", [raw])
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace, visibility="snippet")
    assert "https://graph.microsoft.com/Mail.Read" in list(identity_server.access_tokens.values())[-1].scopes
    upserts, _, _, _ = list_all(conn, INBOX, "")
    [item] = list(conn.fetch(INBOX, upserts))
    assert item.data == raw


def test_a_token_without_mail_read_cannot_fetch_sources(graph_server, identity_server, tmp_workspace):
    """The server enforces what the permission allows: proof the metadata path above needs no more than ReadBasic."""
    graph_server.mailbox.add_messages("inbox", bulk(1))
    conn, _ = signed_in(
        graph_server,
        identity_server,
        tmp_workspace,
        visibility="snippet",
        oauth2={"scopes": ["https://graph.microsoft.com/Mail.ReadBasic"]},
    )
    upserts, _, _, _ = list_all(conn, INBOX, "")
    with pytest.raises(AuthError, match="403") as caught:
        list(conn.fetch(INBOX, upserts))
    assert "permission" in caught.value.fix


def test_a_revoked_sign_in_is_an_auth_error_with_the_fix(graph_server, identity_server, tmp_workspace):
    conn, store = signed_in(graph_server, identity_server, tmp_workspace)
    identity_server.revoke("claire@atelier-durand.fr")
    with pytest.raises(AuthError) as caught:
        conn.discover()
    assert "accounts login m365" in caught.value.fix


def test_a_display_path_folder_is_found(graph_server, identity_server, tmp_workspace):
    mailbox = graph_server.mailbox
    clients = mailbox.add_folder("Clients", parent=mailbox.folder("msgfolderroot").id)
    acme = mailbox.add_folder("Acme", parent=clients.id)
    mailbox.add_messages(acme.id, bulk(2))
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace, folders=["Clients/Acme"], calendar=False)
    [target] = conn.discover()
    assert (target.name, target.display, target.role) == ("Clients/Acme", "Acme", "other")
    assert len(list_all(conn, target, "")[0]) == 2


def test_since_limits_the_first_round(graph_server, identity_server, tmp_workspace):
    graph_server.mailbox.add_messages(
        "inbox",
        [
            make_message(1, date=datetime(2026, 3, 1, tzinfo=UTC)),
            make_message(2, date=datetime(2026, 9, 1, tzinfo=UTC)),
        ],
    )
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace, since="2026-06-01")
    upserts, _, _, _ = list_all(conn, INBOX, "")
    assert len(upserts) == 1


# ---- calendar -------------------------------------------------------------------------------------------------
def test_calendar_view_delta_gives_the_caldav_identities(graph_server, identity_server, tmp_workspace):
    weekly, single = add_meetings(graph_server.mailbox)
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace)
    upserts, _, _, full = list_all(conn, CALENDAR, "")
    assert full and len(upserts) == 4  # calendarView lists instances: 3 of the series, 1 single
    data = b"".join(r.data for r in conn.fetch(CALENDAR, upserts))
    merged = (
        b"BEGIN:VCALENDAR\r\n"
        + b"".join(
            chunk[chunk.index(b"BEGIN:VEVENT") : chunk.index(b"END:VCALENDAR")]
            for chunk in data.split(b"BEGIN:VCALENDAR")[1:]
        )
        + b"END:VCALENDAR\r\n"
    )
    from_graph = meetings_of(merged)
    assert from_graph == meetings_of(caldav_ics(weekly, single))
    assert {identity for identity, *_ in from_graph} == expected_identities()
    masters = [r for r in graph_server.requests if r.path.endswith(f"/events/{weekly.id}")]
    assert len(masters) == 1  # the series' UID is read from its master once, not per occurrence
    assert all('outlook.timezone="UTC"' in r.headers["prefer"] for r in graph_server.requests)


def test_calendar_changes_and_removals_and_the_window_roll(graph_server, identity_server, tmp_workspace):
    weekly, single = add_meetings(graph_server.mailbox)
    clock = FakeClock(NOW)
    conn, _ = signed_in(graph_server, identity_server, tmp_workspace, clock=clock, calendar_future_days=60)
    first, _, cursor, _ = list_all(conn, CALENDAR, "")
    window_request = next(r for r in graph_server.requests if "startDateTime" in r.query)
    assert window_request.query["endDateTime"].startswith("2026-11-30")
    graph_server.mailbox.delete_event(single.id)
    upserts, deletes, cursor, full = list_all(conn, CALENDAR, cursor)
    assert (upserts, deletes, full) == ([], [f"m365/calendar/{single.id}"], False)
    clock.advance(timedelta(days=40))
    assert conn.probe(CALENDAR, cursor) is True
    again, _, _, full = list_all(conn, CALENDAR, cursor)
    assert full and len(again) == 3
    roll = [r for r in graph_server.requests if "startDateTime" in r.query][-1]
    assert roll.query["startDateTime"] == window_request.query["startDateTime"]
    assert roll.query["endDateTime"].startswith("2027-01-09")
