"""Proves each harness server really works through the client library the product uses, and stops without strays."""

from __future__ import annotations

import datetime as dt
import http.server
import imaplib
import smtplib
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import caldav
import pytest
import sqlalchemy as sa
from imapclient import IMAPClient
from imapclient.imapclient import SENT

from tests.harness import (
    LOOPBACK,
    Dovecot,
    FaultProxy,
    HarnessError,
    Postgres,
    Radicale,
    SmtpSink,
    Xandikos,
    leftover_processes,
    maildir_folder_dirname,
    parse_uid_set,
)
from tests.harness.process import MissingServerSoftware, ServerProcess, port_accepts, require_executable

UTC = dt.UTC


def make_message(index: int, subject: str = "Devis") -> bytes:
    return (f"From: Client {index} <client{index}@example.com>\r\nTo: agent@example.org\r\n"
            f"Subject: {subject} {index}\r\nMessage-ID: <m{index}@example.com>\r\n"
            f"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nBonjour {index}\r\n").encode()


def fetch_by_uid(client: IMAPClient, folder: str) -> dict[int, dict[bytes, object]]:
    client.select_folder(folder)
    # Explicit UID lists: IMAPClient 4.0-4.1 cannot take "1:*" (upstream issue #666).
    items = ["INTERNALDATE", "RFC822.SIZE", "FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]
    return client.fetch(client.search(), items)


def message_ids(fetched: dict[int, dict[bytes, object]]) -> list[str]:
    header_key = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"
    return [fetched[uid][header_key].decode().split(":", 1)[1].strip() for uid in sorted(fetched)]  # type: ignore


# ---- IMAP ---------------------------------------------------------------------------------------------------------
def test_direct_maildir_writes_get_uids_in_write_order_and_mtime_as_internaldate(dovecot: Dovecot,
                                                                                  imap_user: str) -> None:
    # Dates deliberately descending: UIDs must follow the write order, not the dates.
    dates = [dt.datetime(2024, 3, 10 - index, 8, 30, tzinfo=UTC) for index in range(4)]
    messages = [make_message(index) for index in range(4)]
    dovecot.write_messages(imap_user, "INBOX", messages[:3], internal_dates=dates[:3])
    dovecot.write_messages(imap_user, "INBOX", messages[3:], internal_dates=dates[3:], seen=True)

    with dovecot.connect(imap_user) as client:
        client.normalise_times = False
        fetched = fetch_by_uid(client, "INBOX")

    assert sorted(fetched) == [1, 2, 3, 4]
    assert message_ids(fetched) == [f"<m{index}@example.com>" for index in range(4)]
    assert [fetched[uid][b"INTERNALDATE"] for uid in sorted(fetched)] == dates
    assert [fetched[uid][b"RFC822.SIZE"] for uid in sorted(fetched)] == [len(message) for message in messages]
    seen = [b"\\Seen" in fetched[uid][b"FLAGS"] for uid in sorted(fetched)]  # type: ignore[operator]
    assert seen == [False, False, False, True]


def test_non_ascii_subfolder_written_directly_is_listed_under_its_unicode_name(dovecot: Dovecot,
                                                                               imap_user: str) -> None:
    dovecot.write_messages(imap_user, "Clients/Société Générale", [make_message(1), make_message(2)])
    with dovecot.connect(imap_user) as client:
        names = [name for _flags, _sep, name in client.list_folders()]
        fetched = fetch_by_uid(client, "Clients/Société Générale")
    assert "Clients/Société Générale" in names
    assert message_ids(fetched) == ["<m1@example.com>", "<m2@example.com>"]


def test_sent_drafts_trash_are_advertised_with_special_use(dovecot: Dovecot, imap_user: str) -> None:
    with dovecot.connect(imap_user) as client:
        assert b"SPECIAL-USE" in client.capabilities()
        assert client.find_special_folder(SENT) == "Sent"
        flags_by_name = {name: flags for flags, _sep, name in client.list_folders()}
        separators = {sep for _flags, sep, _name in client.list_folders()}
    assert b"\\Drafts" in flags_by_name["Drafts"] and b"\\Trash" in flags_by_name["Trash"]
    assert separators == {b"/"}


def test_wrong_password_and_unknown_user_are_plain_authentication_failures(dovecot: Dovecot, imap_user: str) -> None:
    for user, password in ((imap_user, "wrong"), ("nobody@example.org", "secret")):
        client = IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=10)
        with pytest.raises(IMAPClient.Error, match="AUTHENTICATIONFAILED"):
            client.login(user, password)
        client.shutdown()
    dovecot.add_user("late@example.org", "pw")
    with dovecot.connect("late@example.org") as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_imap_over_implicit_tls_and_starttls_trusts_only_the_harness_cert(dovecot: Dovecot, imap_user: str) -> None:
    dovecot.write_messages(imap_user, "INBOX", [make_message(1)])
    for options in ({"tls": True}, {"starttls": True}):
        with dovecot.connect(imap_user, **options) as client:
            assert isinstance(client._imap.sock, ssl.SSLSocket)
            assert client.select_folder("INBOX")[b"EXISTS"] == 1
    untrusting = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot.host, dovecot.tls_port, ssl=True, ssl_context=untrusting, timeout=10)


def test_multiappend_returns_uids_and_uidvalidity_change_keeps_the_messages(dovecot: Dovecot, imap_user: str) -> None:
    uids = dovecot.multiappend(imap_user, "Archive", [make_message(index) for index in range(3)],
                               internal_dates=[dt.datetime(2023, 5, 1, tzinfo=UTC)] * 3)
    assert uids == [1, 2, 3]
    old, new = dovecot.set_uidvalidity_change(imap_user, "Archive")
    assert new != old
    with dovecot.connect(imap_user) as client:
        assert client.select_folder("Archive")[b"UIDVALIDITY"] == new
        fetched = client.fetch(client.search(), ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    assert message_ids(fetched) == [f"<m{index}@example.com>" for index in range(3)]


def test_killed_dovecot_breaks_the_session_and_comes_back_with_the_mail(tmp_workspace: Path) -> None:
    with Dovecot(tmp_workspace / "imap") as server:
        server.add_user("crash@example.org", "pw")
        server.write_messages("crash@example.org", "INBOX", [make_message(1)])
        client = server.connect("crash@example.org")
        client.select_folder("INBOX")
        server.kill()
        assert not port_accepts(server.port)
        with pytest.raises((IMAPClient.AbortError, OSError)):
            client.noop()
        server.start()
        server.restart()
        with server.connect("crash@example.org") as again:
            assert again.select_folder("INBOX")[b"EXISTS"] == 1
        groups = server.process_groups()
    assert len(groups) == 3
    assert leftover_processes(groups) == {}


# ---- CalDAV -------------------------------------------------------------------------------------------------------
def exercise_calendar(principal: caldav.Principal) -> None:
    """make calendar, add event, sync-token round trips: everything, then nothing, then only the change."""
    calendar = principal.make_calendar(name="Rendez-vous", cal_id="rdv")
    calendar.add_event(dtstart=dt.datetime(2024, 4, 2, 9, tzinfo=UTC), dtend=dt.datetime(2024, 4, 2, 10, tzinfo=UTC),
                       summary="Visite client", uid="visit-1@example.org")
    first = calendar.get_objects_by_sync_token(load_objects=True, disable_fallback=True)
    assert [item.icalendar_component["UID"] for item in first] == ["visit-1@example.org"]
    unchanged = calendar.get_objects_by_sync_token(sync_token=first.sync_token, load_objects=True,
                                                   disable_fallback=True)
    assert list(unchanged) == []
    calendar.add_event(dtstart=dt.datetime(2024, 4, 3, 9, tzinfo=UTC), dtend=dt.datetime(2024, 4, 3, 10, tzinfo=UTC),
                       summary="Relance devis", uid="visit-2@example.org")
    changed = calendar.get_objects_by_sync_token(sync_token=first.sync_token, load_objects=True,
                                                 disable_fallback=True)
    assert [item.icalendar_component["UID"] for item in changed] == ["visit-2@example.org"]
    assert changed.sync_token != first.sync_token


def test_radicale_calendar_event_and_sync_token(radicale: Radicale, caldav_user: str) -> None:
    with caldav.DAVClient(url=radicale.url, username=caldav_user, password=radicale.users[caldav_user]) as client:
        exercise_calendar(client.principal())


def test_xandikos_calendar_event_and_sync_token(xandikos: Xandikos) -> None:
    with caldav.DAVClient(url=xandikos.url) as client:
        exercise_calendar(client.principal())


def test_radicale_serves_ics_files_written_straight_into_storage(radicale: Radicale, caldav_user: str) -> None:
    items = {f"e{index}.ics": (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crm-agent//tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:bulk-{index}@example.org\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:202402{10 + index}T090000Z\r\n"
        f"DTEND:202402{10 + index}T100000Z\r\nSUMMARY:Réunion {index}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()
        for index in range(5)}
    radicale.write_ics_files(caldav_user, "bulk", items, displayname="Import")
    with caldav.DAVClient(url=radicale.url, username=caldav_user, password=radicale.users[caldav_user]) as client:
        calendar = client.calendar(url=f"{radicale.user_url(caldav_user)}bulk/")
        assert calendar.get_display_name() == "Import"
        summaries = sorted(str(event.icalendar_component["SUMMARY"]) for event in calendar.events())
    assert summaries == [f"Réunion {index}" for index in range(5)]


# ---- SMTP ---------------------------------------------------------------------------------------------------------
def test_smtp_sink_records_an_authenticated_message(smtp_sink: SmtpSink) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "agent@example.org", "client@example.com", "Relance — devis"
    message.set_content("Bonjour, où en est le devis ?")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("agent@example.org", "wrong")
        client.login("agent@example.org", "secret")
        client.send_message(message)
    [received] = smtp_sink.wait_for(1)
    assert received.mail_from == "agent@example.org" and received.rcpt_tos == ["client@example.com"]
    assert received.parsed()["Subject"] == "Relance — devis"
    assert received.parsed().get_content().strip() == "Bonjour, où en est le devis ?"
    assert smtp_sink.logins == ["agent@example.org"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_sink_requiring_auth_refuses_anonymous_senders_and_wait_for_times_out() -> None:
    with SmtpSink({"u": "p"}, require_auth=True) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPSenderRefused):
                client.sendmail("a@example.org", ["b@example.org"], b"Subject: x\r\n\r\nx\r\n")
        with pytest.raises(TimeoutError, match="0 of 1"):
            sink.wait_for(1, timeout=0.05)


# ---- PostgreSQL ---------------------------------------------------------------------------------------------------
def test_each_fresh_database_answers_and_is_isolated(postgres: Postgres, pg_url: str) -> None:
    second_url = postgres.create_database("harness_second")
    try:
        first, second = sa.create_engine(pg_url), sa.create_engine(second_url)
        with first.begin() as connection:
            assert connection.execute(sa.text("select 1")).scalar() == 1
            connection.execute(sa.text("create table marker (id int)"))
        with second.connect() as connection:
            assert connection.execute(sa.text("select 1")).scalar() == 1
            assert connection.execute(sa.text("select to_regclass('marker')")).scalar() is None
        first.dispose()
        second.dispose()
    finally:
        postgres.drop_database("harness_second")


# ---- faults -------------------------------------------------------------------------------------------------------
def test_proxy_drop_and_pause_break_a_live_imap_session(dovecot: Dovecot, imap_user: str,
                                                        fault_proxy: Callable[..., FaultProxy]) -> None:
    proxy = fault_proxy(dovecot.port)
    client = IMAPClient(LOOPBACK, proxy.port, ssl=False, timeout=10)
    client.login(imap_user, dovecot.users[imap_user])
    assert client.select_folder("INBOX")[b"EXISTS"] == 0
    assert proxy.drop_all() == 1
    with pytest.raises((IMAPClient.AbortError, OSError)):
        client.noop()

    paused = IMAPClient(LOOPBACK, proxy.port, ssl=False, timeout=10)
    paused.login(imap_user, dovecot.users[imap_user])
    proxy.pause()
    paused._imap.sock.settimeout(0.2)
    with pytest.raises((socket.timeout, imaplib.IMAP4.abort)):
        paused.noop()
    proxy.resume()


# ---- browser ------------------------------------------------------------------------------------------------------
@pytest.fixture
def status_page(tmp_workspace: Path) -> Iterator[str]:
    (tmp_workspace / "index.html").write_text(
        "<html><body><p id='status'>loading</p><script>fetch('status.json').then(r => r.json())"
        ".then(s => { document.getElementById('status').textContent = 'ok: ' + s.accounts + ' comptes'; });"
        "</script></body></html>")
    (tmp_workspace / "status.json").write_text('{"accounts": 3}')
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(tmp_workspace))  # noqa: E731
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOOPBACK}:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


def test_chromium_renders_a_local_page_that_runs_javascript(page: object, status_page: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(status_page)
    expect(page.locator("#status")).to_have_text("ok: 3 comptes")


# ---- life cycle ---------------------------------------------------------------------------------------------------
def test_every_server_stops_without_leftover_processes(tmp_workspace: Path) -> None:
    servers = [Dovecot(tmp_workspace / "i", tls=True), Radicale(tmp_workspace / "r"), Xandikos(tmp_workspace / "x"),
               Postgres(tmp_workspace / "p")]
    ports = []
    for server in servers:
        with server:
            assert server.start_seconds is not None
            ports.append(server.port)
            assert leftover_processes(server.process_groups()) != {}
        assert leftover_processes(server.process_groups()) == {}
    assert not any(port_accepts(port) for port in ports)


def test_a_server_dying_at_start_up_reports_its_log(tmp_workspace: Path) -> None:
    crashing = ServerProcess("crasher", [sys.executable, "-c", "print('bad config line 3'); raise SystemExit(3)"],
                             tmp_workspace / "crash.log")
    crashing.start()
    with pytest.raises(HarnessError, match=r"(?s)exited with code 3.*bad config line 3"):
        crashing.wait_for_port(1, timeout=10)


def test_stop_kills_a_process_group_that_ignores_sigterm(tmp_workspace: Path) -> None:
    stubborn_code = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                     "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
                     "print('up', flush=True); "
                     "time.sleep(60)")
    stubborn = ServerProcess("stubborn", [sys.executable, "-c", stubborn_code], tmp_workspace / "stubborn.log")
    stubborn.start()
    stubborn.wait_until(lambda: (tmp_workspace / "stubborn.log").read_text().startswith("up"))
    assert stubborn.pid is not None and len(leftover_processes({stubborn.pid})[stubborn.pid]) == 2
    stubborn.stop(timeout=0.5)
    assert leftover_processes({stubborn.pid}) == {}


def test_a_missing_server_binary_names_its_package_and_the_install_script() -> None:
    with pytest.raises(MissingServerSoftware, match=r"Debian package some-package.*scripts/install-test-deps"):
        require_executable("crm-no-such-server", "some-package")


# ---- helpers ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("folder", "dirname"), [
    ("INBOX", None), ("inbox", None), ("Sent", ".Sent"), ("Clients/Société", ".Clients.Soci&AOk-t&AOk-"),
    ("R&D", ".R&-D"),
])
def test_maildir_folder_names_use_maildir_plus_plus_and_modified_utf7(folder: str, dirname: str | None) -> None:
    assert maildir_folder_dirname(folder) == dirname


@pytest.mark.parametrize("folder", ["a.b", "a//b", "/a", "~x"])
def test_maildir_folder_names_dovecot_cannot_store_are_refused(folder: str) -> None:
    with pytest.raises(ValueError):
        maildir_folder_dirname(folder)


def test_uid_sets_expand_ranges_in_either_direction() -> None:
    assert parse_uid_set("4:6,9,12:11") == [4, 5, 6, 9, 11, 12]
