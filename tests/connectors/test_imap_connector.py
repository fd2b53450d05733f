"""IMAP specifics beyond the contract: folder discovery, TLS and STARTTLS, read-only access, `since`, UID batches."""

from __future__ import annotations

from datetime import date

import pytest

from agent.connectors.imap import ImapConnector
from agent.connectors.imap.cursor import compact, expand
from agent.connectors.imap.folders import choose_targets
from agent.errors import AuthError, UserError
from agent.records import TargetRef
from tests.connectors.contract import list_all
from tests.support.accounts import imap_account
from tests.support.messages import BASE, bulk, make_message

pytestmark = pytest.mark.servers


def test_discovery_finds_inbox_and_the_special_use_sent_folder(dovecot, imap_user):
    conn = ImapConnector(imap_account(dovecot, imap_user))
    try:
        targets = {t.name: t.role for t in conn.discover()}
    finally:
        conn.close()
    assert targets == {"INBOX": "inbox", "Sent": "sent"}


@pytest.mark.parametrize("name", ["Éléments envoyés", "Envoyés", "INBOX/Sent Items"])
def test_without_special_use_well_known_names_are_found_decoded_from_modified_utf7(name):
    listing = [((b"\\HasNoChildren",), "/", "INBOX"), ((b"\\HasNoChildren",), "/", name),
               ((b"\\HasNoChildren",), "/", "Archives")]
    targets = choose_targets("acc", listing, None)
    assert [(t.name, t.role) for t in targets] == [("INBOX", "inbox"), (name, "sent")]


def test_a_non_ascii_folder_on_the_server_round_trips(dovecot, imap_user):
    dovecot.multiappend(imap_user, "Éléments envoyés", bulk(2))
    conn = ImapConnector(imap_account(dovecot, imap_user, folders=["INBOX", "Éléments envoyés"]))
    try:
        targets = conn.discover()
        upserts, _, _, _ = list_all(conn, targets[1], "")
        assert len(upserts) == 2 and upserts[0].location.startswith("imap/Éléments envoyés/")
    finally:
        conn.close()


def test_configured_folders_override_and_a_missing_one_is_named(dovecot, imap_user):
    conn = ImapConnector(imap_account(dovecot, imap_user, folders=["INBOX", "Nope"]))
    try:
        with pytest.raises(UserError, match="folder 'Nope' not found"):
            conn.discover()
    finally:
        conn.close()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls(dovecot, imap_user, security):
    dovecot.multiappend(imap_user, "INBOX", bulk(2))
    account = imap_account(dovecot, imap_user, security=security)
    if security == "starttls":
        account = account.model_copy(update={"port": dovecot.port})
    conn = ImapConnector(account)
    try:
        upserts, _, _, _ = list_all(conn, TargetRef("imap", "INBOX"), "")
        assert len(list(conn.fetch(TargetRef("imap", "INBOX"), upserts))) == 2
    finally:
        conn.close()


def test_an_untrusted_certificate_is_an_auth_error_not_a_retry_loop(dovecot, imap_user):
    account = imap_account(dovecot, imap_user, security="tls").model_copy(update={"ca_file": None})
    conn = ImapConnector(account)
    with pytest.raises(AuthError, match="certificate"):
        conn.discover()


def test_wrong_password_is_an_auth_error(dovecot, imap_user):
    account = imap_account(dovecot, imap_user)
    bad = account.model_copy(update={"password": type(account.password)("wrong")})
    with pytest.raises(AuthError, match="login refused"):
        ImapConnector(bad).discover()


def test_sync_never_changes_a_flag(dovecot, imap_user):
    dovecot.multiappend(imap_user, "INBOX", bulk(4))
    conn = ImapConnector(imap_account(dovecot, imap_user, visibility="full"))
    try:
        upserts, _, _, _ = list_all(conn, TargetRef("imap", "INBOX"), "")
        assert len(list(conn.fetch(TargetRef("imap", "INBOX"), upserts))) == 4
    finally:
        conn.close()
    client = dovecot.connect(imap_user)
    try:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search("ALL"))
    finally:
        client.logout()
    assert all(b"\\Seen" not in f for f in flags.values())


def test_since_limits_the_first_backfill_only(dovecot, imap_user):
    from datetime import timedelta

    old = [make_message(n, date=BASE - timedelta(days=400)) for n in range(3)]
    dovecot.multiappend(imap_user, "INBOX", old, internal_dates=[BASE - timedelta(days=400)] * 3)
    dovecot.multiappend(imap_user, "INBOX", bulk(2, start=10), internal_dates=[BASE] * 2)
    conn = ImapConnector(imap_account(dovecot, imap_user), since=date(BASE.year - 1, BASE.month, 1))
    try:
        upserts, _, cursor, _ = list_all(conn, TargetRef("imap", "INBOX"), "")
        assert len(upserts) == 2
        dovecot.multiappend(imap_user, "INBOX", bulk(1, start=20), internal_dates=[BASE])
        later, deletes, _, _ = list_all(conn, TargetRef("imap", "INBOX"), cursor)
        assert len(later) == 1 and deletes == []  # old mail is known (no false deletes), just not imported
    finally:
        conn.close()


def test_more_uids_than_one_command_can_carry_are_fetched_in_batches(dovecot, imap_user):
    dovecot.write_messages(imap_user, "INBOX", bulk(4500))
    conn = ImapConnector(imap_account(dovecot, imap_user, visibility="subject"), fetch_batch=1000)
    try:
        upserts, _, _, _ = list_all(conn, TargetRef("imap", "INBOX"), "", limit=5000)
        sample = upserts[::2]  # holes: the UID sets are lists of ranges, not one range
        assert len(list(conn.fetch(TargetRef("imap", "INBOX"), sample))) == len(sample)
    finally:
        conn.close()


def test_uid_sets_compact_and_expand():
    assert compact([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert expand("1:3,7,9:10") == {1, 2, 3, 7, 9, 10}
    assert compact([]) == "" and expand("") == set()


def test_a_paged_full_listing_opens_the_folder_once_and_mail_arriving_meanwhile_is_listed_once(dovecot, imap_user):
    # Dovecot re-scans a maildir on every EXAMINE: one per page made a big first sync quadratic
    dovecot.write_messages(imap_user, "INBOX", bulk(25))
    conn = ImapConnector(imap_account(dovecot, imap_user))
    target = TargetRef("imap", "INBOX")
    examined: list[str] = []
    examine = conn._examine
    conn._examine = lambda folder: examined.append(folder) or examine(folder)
    try:
        first = conn.list_changes(target, "", limit=10)
        dovecot.multiappend(imap_user, "INBOX", bulk(2, start=100))  # arrives during the listing
        upserts, _, cursor, _ = list_all(conn, target, first.next_cursor, limit=10)
        listed = [*first.upserts, *upserts]
        assert examined == ["INBOX"]
        assert len(listed) == 27 and len({r.location for r in listed}) == 27
        # the cursor may hold the UIDNEXT of the listing's start: the next sync finds nothing, then settles
        again, deletes, settled, _ = list_all(conn, target, cursor)
        assert again == [] and deletes == []
        assert list_all(conn, target, settled) == ([], [], settled, False)
    finally:
        conn.close()
