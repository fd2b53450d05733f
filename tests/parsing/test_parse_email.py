"""parse_email: header fast path, repairs, visibility, content hash and message ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from agent.pipeline.parse_email import EPOCH, normalize_message_id, parse_email
from agent.records import Visibility

HEADERS = (
    "From: Jean Dupont <Jean.Dupont@Acme-Industrie.fr>\r\n"
    "To: \"Martin, Claire\" <claire.martin@batiplus.fr>, bob@batiplus.fr\r\n"
    "Cc: =?utf-8?Q?Fran=C3=A7ois_Roux?= <francois.roux@acme-industrie.fr>\r\n"
    "Subject: =?utf-8?Q?Re=3A_Devis_n=C2=B042?=\r\n"
    "Date: Mon, 3 Jun 2024 10:12:33 +0200\r\n"
    "Message-ID: <abc.123@mail.acme-industrie.fr>\r\n"
    "In-Reply-To: <root@batiplus.fr>\r\n"
    "References: <root@batiplus.fr>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
)
BODY = "Bonjour Claire,\r\n\r\nVoici le devis révisé.\r\n\r\nLe lun. 3 juin 2024, Claire a écrit :\r\n> avant\r\n"
MESSAGE = (HEADERS + "\r\n" + BODY).encode("utf-8")


def headers_with(**changes: str | None) -> bytes:
    """HEADERS with some headers replaced (value) or removed (None); names use _ for -."""
    lines = []
    for line in HEADERS.split("\r\n"):
        name = line.partition(":")[0].lower().replace("-", "_")
        if name in changes:
            if changes[name] is not None:
                lines.append(f"{line.partition(':')[0]}: {changes[name]}")
        elif line:
            lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_header_fields_are_decoded_and_normalized() -> None:
    parsed = parse_email(MESSAGE)
    assert parsed.from_[0].address == "jean.dupont@acme-industrie.fr"
    assert parsed.from_[0].name == "Jean Dupont"
    assert [(m.address, m.name) for m in parsed.to] == [
        ("claire.martin@batiplus.fr", "Martin, Claire"),
        ("bob@batiplus.fr", ""),
    ]
    assert parsed.cc[0].name == "François Roux"
    assert parsed.subject == "Re: Devis n°42"
    assert parsed.date == datetime(2024, 6, 3, 8, 12, 33, tzinfo=UTC)
    assert parsed.message_id == "abc.123@mail.acme-industrie.fr"
    assert parsed.in_reply_to == "root@batiplus.fr"
    assert parsed.references == ("root@batiplus.fr",)
    assert parsed.repairs == ()
    assert parsed.size == len(MESSAGE)


def test_header_only_block_gives_the_same_headers_and_no_text() -> None:
    whole = parse_email(MESSAGE, visibility=Visibility.FULL)
    header_only = parse_email(HEADERS.encode(), visibility=Visibility.FULL)
    for field in ("message_id", "subject", "date", "from_", "to", "cc", "in_reply_to", "references"):
        assert getattr(header_only, field) == getattr(whole, field), field
    assert header_only.body == "" and header_only.snippet == ""
    assert whole.body.startswith("Bonjour Claire")


@pytest.mark.parametrize(
    ("visibility", "subject", "snippet", "body"),
    [
        (Visibility.METADATA, False, False, False),
        (Visibility.SUBJECT, True, False, False),
        (Visibility.SNIPPET, True, True, False),
        (Visibility.FULL, True, True, True),
    ],
)
def test_visibility_keeps_only_what_it_allows(visibility, subject, snippet, body) -> None:
    parsed = parse_email(MESSAGE, visibility=visibility)
    assert bool(parsed.subject) is subject
    assert bool(parsed.snippet) is snippet
    assert bool(parsed.body) is body
    assert parsed.from_ and parsed.date.year == 2024  # participants and date at every level


def test_visibility_accepts_its_string_value() -> None:
    assert parse_email(MESSAGE, visibility="metadata").subject == ""


def test_snippet_is_the_new_text_only() -> None:
    parsed = parse_email(MESSAGE)
    assert parsed.snippet == "Bonjour Claire, Voici le devis révisé."


def test_content_hash_ignores_visibility_received_headers_and_folder_date() -> None:
    base = parse_email(MESSAGE, visibility=Visibility.METADATA).content_hash
    relayed = b"Received: from mx.example by mx2.example; Mon, 3 Jun 2024 10:13:00 +0200\r\n" + MESSAGE
    assert parse_email(relayed, visibility=Visibility.FULL).content_hash == base
    later = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_email(MESSAGE, received_at=later).content_hash == base


def test_content_hash_changes_with_the_text_and_the_participants() -> None:
    base = parse_email(MESSAGE).content_hash
    assert parse_email(MESSAGE.replace(b"devis", b"contrat")).content_hash != base
    assert parse_email(MESSAGE.replace(b"bob@", b"alice@")).content_hash != base


def test_content_hash_does_not_depend_on_the_transfer_encoding() -> None:
    plain = headers_with(content_type="text/plain; charset=utf-8") + b"\r\nD\xc3\xa9j\xc3\xa0 vu.\r\n"
    encoded = (
        headers_with(content_type="text/plain; charset=utf-8")
        + b"Content-Transfer-Encoding: base64\r\n\r\nRMOpasOgIHZ1Lg==\r\n"
    )
    assert parse_email(plain).content_hash == parse_email(encoded).content_hash


def test_unreadable_items_hash_their_bytes_so_two_of_them_stay_apart() -> None:
    assert parse_email(b"\x00\x01garbage").content_hash != parse_email(b"\x00\x02garbage").content_hash


def test_missing_date_falls_back_to_internaldate_then_epoch() -> None:
    received = datetime(2024, 6, 5, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    with_received = parse_email(headers_with(date=None), received_at=received)
    assert with_received.date == datetime(2024, 6, 5, 8, 0, tzinfo=UTC)
    assert "date:missing->internaldate" in with_received.repairs
    without = parse_email(headers_with(date=None))
    assert without.date == EPOCH and "date:missing->epoch" in without.repairs


def test_naive_received_at_is_taken_as_utc() -> None:
    parsed = parse_email(headers_with(date=None), received_at=datetime(2024, 6, 5, 10, 0))
    assert parsed.date == datetime(2024, 6, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected", "repair"),
    [
        ("Mon, 3 Jun 2024 10:12:33 +0200", datetime(2024, 6, 3, 8, 12, 33, tzinfo=UTC), None),
        ("3 Jun 2024 10:12:33 -0430", datetime(2024, 6, 3, 14, 42, 33, tzinfo=UTC), None),
        ("Mon, 03 Jun 2024 10:12 GMT", datetime(2024, 6, 3, 10, 12, tzinfo=UTC), None),
        ("Mon, 3 Jun 24 10:12:33 CEST", datetime(2024, 6, 3, 8, 12, 33, tzinfo=UTC), None),
        ("Mon, 3 Jun 2024 10:12:33 +0200 (CEST)", datetime(2024, 6, 3, 8, 12, 33, tzinfo=UTC), None),
        ("Mon, 3 Jun 2024 10:12:33 +02:00", datetime(2024, 6, 3, 8, 12, 33, tzinfo=UTC), None),
        ("Monday, 3 June 2024 10:12:33 +0200", datetime(2024, 6, 3, 8, 12, 33, tzinfo=UTC), None),
        ("Mon, 3 Jun 2024 10:12:60 +0000", datetime(2024, 6, 3, 10, 12, 59, tzinfo=UTC), None),  # leap second
        ("2024-06-03T10:12:33+02:00", datetime(2024, 6, 3, 8, 12, 33, tzinfo=UTC), None),
        ("Mon, 3 Jun 2024 10:12:33", datetime(2024, 6, 3, 10, 12, 33, tzinfo=UTC), "date:no-timezone"),
        ("Mon, 3 Jun 2024 10:12:33 XYZ", datetime(2024, 6, 3, 10, 12, 33, tzinfo=UTC), "date:unknown-timezone"),
    ],
)
def test_date_formats(raw, expected, repair) -> None:
    parsed = parse_email(headers_with(date=raw))
    assert parsed.date == expected
    assert parsed.date.tzinfo is UTC
    date_repairs = [r for r in parsed.repairs if r.startswith("date:")]
    assert date_repairs == ([repair] if repair else [])


@pytest.mark.parametrize("raw", ["demain matin", "31 Feb 2024 10:00:00 +0000", "Mon, 3 Foo 2024 10:12 +0200", ""])
def test_unparseable_date_uses_internaldate_and_says_so(raw) -> None:
    received = datetime(2024, 6, 5, 8, 0, tzinfo=UTC)
    parsed = parse_email(headers_with(date=raw), received_at=received)
    assert parsed.date == received
    assert "date:unparseable" in parsed.repairs


def test_missing_message_id_is_none_and_repaired() -> None:
    parsed = parse_email(headers_with(message_id=None))
    assert parsed.message_id is None and "message-id:missing" in parsed.repairs
    empty = parse_email(headers_with(message_id="<>"))
    assert empty.message_id is None and "message-id:invalid" in empty.repairs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<abc@host>", "abc@host"),
        ("  <AbC@Host.Example>  ", "AbC@Host.Example"),
        ("abc@host", "abc@host"),
        ("<abc@host> (added by gateway)", "abc@host"),
        ("abc@host (comment)", "abc@host"),
        ("<abc\r\n @host>", "abc@host"),
        ("<first@a> <second@b>", "first@a"),
        ("<unterminated@host", "unterminated@host"),
        ("<>", None),
        ("", None),
        (None, None),
        ("<" + "x" * 1000 + "@host>", None),
    ],
)
def test_normalize_message_id(raw, expected) -> None:
    assert normalize_message_id(raw) == expected


def test_duplicated_headers_keep_the_first_and_are_repaired() -> None:
    data = HEADERS.encode() + b"Subject: second\r\nDate: Thu, 01 Jan 2015 00:00:00 +0000\r\n"
    parsed = parse_email(data)
    assert parsed.subject == "Re: Devis n°42"
    assert parsed.date.year == 2024
    assert {"header:duplicated:subject", "header:duplicated:date"} <= set(parsed.repairs)


def test_references_are_capped_keeping_the_root() -> None:
    ids = " ".join(f"<id{i}@host>" for i in range(500))
    parsed = parse_email(headers_with(references=ids))
    assert len(parsed.references) == 50
    assert parsed.references[0] == "id0@host"
    assert parsed.references[1:] == tuple(f"id{i}@host" for i in range(451, 500))
    assert "header:too-long:references" in parsed.repairs


def test_references_with_comments_and_bad_folds() -> None:
    parsed = parse_email(headers_with(references="<a@x> (comment) <b\r\n @y>\r\n\t<c@z>"))
    assert parsed.references == ("a@x", "b@y", "c@z")


def test_long_subject_is_capped() -> None:
    parsed = parse_email(headers_with(subject="x" * 5000))
    assert len(parsed.subject) == 1000 and "header:too-long:subject" in parsed.repairs


def test_folded_headers_are_unfolded() -> None:
    data = headers_with(subject="Devis\r\n pour la\r\n\trénovation", to="a@x.fr,\r\n b@y.fr")
    parsed = parse_email(data)
    assert parsed.subject == "Devis pour la rénovation"  # a fold is one blank, a tab included
    assert [m.address for m in parsed.to] == ["a@x.fr", "b@y.fr"]


def test_lf_only_line_ends() -> None:
    data = b"Date: Mon, 3 Jun 2024 10:12:33 +0200\nFrom: a@x.fr\nSubject: hello\n\nbody\n"
    parsed = parse_email(data, visibility=Visibility.FULL)
    assert (parsed.from_[0].address, parsed.subject, parsed.body.strip()) == ("a@x.fr", "hello", "body")


def test_obsolete_blank_before_colon() -> None:
    parsed = parse_email(b"From : a@x.fr\r\nSubject :  hello\r\n")
    assert (parsed.from_[0].address, parsed.subject) == ("a@x.fr", "hello")


def test_eight_bit_headers_utf8_then_cp1252() -> None:
    utf8 = parse_email("Subject: Réunion\r\nFrom: Zoé <zoe@x.fr>\r\n".encode())
    assert utf8.subject == "Réunion" and utf8.from_[0].name == "Zoé" and "header:8bit" in utf8.repairs
    latin = parse_email("Subject: Réunion à 10 h – salle\r\n".encode("cp1252"))
    assert latin.subject == "Réunion à 10 h – salle" and "header:8bit:cp1252" in latin.repairs


@pytest.mark.parametrize(
    ("raw", "expected", "repair"),
    [
        ("=?utf-8?q?caf=C3=A9?=", "café", None),
        ("=?UTF-8?B?Y2Fmw6k=?=", "café", None),
        ("=?utf-8?B?Y2Fmw6k?=", "café", None),  # padding missing
        ("=?utf-8*fr?q?caf=C3=A9?=", "café", None),  # RFC 2231 language
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab", None),  # blanks between words vanish
        ("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "café", None),  # a character split across words
        ("Re: =?iso-8859-1?q?r=E9union?= demain", "Re: réunion demain", None),
        ("=?iso-8859-1?q?=C3=A9t=C3=A9?=", "été", "charset:mislabeled:iso-8859-1"),
        ("=?x-unknown?q?caf=E9?=", "café", "charset:unknown:x-unknown"),
        ("=?utf-8?b?@@@?= ok", "=?utf-8?b?@@@?= ok", "encoded-word:invalid"),
        ("=?utf-8?q?sans fin", "=?utf-8?q?sans fin", "encoded-word:unterminated"),
    ],
)
def test_encoded_words(raw, expected, repair) -> None:
    parsed = parse_email(headers_with(subject=raw))
    assert parsed.subject == expected
    assert (repair in parsed.repairs) if repair else not parsed.repairs


def test_address_forms() -> None:
    to = (
        'Achats: a1@batiplus.fr, "Martin, Claire" <claire@batiplus.fr>;, rob@globex.com (Robert Smith), '
        "<nobody@x.fr>, =?UTF-8?B?QW3DqWxpZQ==?= <amelie@roux.fr>, CLAIRE@batiplus.fr, pas-une-adresse"
    )
    parsed = parse_email(headers_with(to=to, cc="undisclosed-recipients:;"))
    assert [(m.address, m.name) for m in parsed.to] == [
        ("a1@batiplus.fr", ""),
        ("claire@batiplus.fr", "Martin, Claire"),
        ("rob@globex.com", "Robert Smith"),
        ("nobody@x.fr", ""),
        ("amelie@roux.fr", "Amélie"),
    ]
    assert parsed.cc == ()
    assert "address:invalid:to" in parsed.repairs
    assert "address:invalid:cc" not in parsed.repairs  # an empty group is not an invalid address


def test_names_that_look_like_addresses() -> None:
    parsed = parse_email(headers_with(to="'jean@x.fr' <jean@x.fr>, \"Dupont <j@x.fr>\" <jd@x.fr>"))
    assert [(m.address, m.name) for m in parsed.to] == [("jean@x.fr", "jean@x.fr"), ("jd@x.fr", "Dupont <j@x.fr>")]


def test_encoded_display_name_with_a_comma_is_one_mailbox() -> None:
    parsed = parse_email(headers_with(to="=?utf-8?Q?Roux=2C_Fran=C3=A7ois?= <f@roux.fr>, b@y.fr"))
    assert [(m.address, m.name) for m in parsed.to] == [("f@roux.fr", "Roux, François"), ("b@y.fr", "")]


def test_huge_recipient_list_is_capped() -> None:
    to = ", ".join(f"user{i}@example.fr" for i in range(3000))
    parsed = parse_email(headers_with(to=to))
    assert len(parsed.to) == 1000 and "header:too-long:to" in parsed.repairs


def test_noise_headers_are_kept_lowercase_and_decoded() -> None:
    data = HEADERS.encode() + (
        b"List-Id: =?utf-8?q?Liste_caf=C3=A9?= <cafe.lists.example>\r\n"
        b"Precedence: bulk\r\nX-Unrelated: 1\r\nAuto-Submitted: auto-generated\r\n"
    )
    parsed = parse_email(data)
    assert parsed.header("list-id") == "Liste café <cafe.lists.example>"
    assert parsed.header("Precedence") == "bulk"
    assert parsed.header("content-type") == "text/plain; charset=utf-8"
    assert parsed.header("x-unrelated") is None
    assert [name for name, _ in parsed.noise_headers] == ["content-type", "list-id", "precedence", "auto-submitted"]


def test_content_type_is_the_lowercase_media_type() -> None:
    assert parse_email(headers_with(content_type='Multipart/Mixed; boundary="X"')).content_type == "multipart/mixed"
    assert parse_email(headers_with(content_type=None)).content_type == "text/plain"
    broken = parse_email(headers_with(content_type="garbage"))
    assert broken.content_type == "text/plain" and "content-type:invalid" in broken.repairs


def test_html_body_becomes_text_when_there_is_no_plain_part() -> None:
    data = headers_with(content_type="text/html; charset=utf-8") + (
        b"\r\n<html><head><style>p{}</style></head><body><p>Bonjour&nbsp;!</p><p>Devis&#160;pr\xc3\xaat.</p>"
        b"<blockquote>ancien</blockquote></body></html>"
    )
    parsed = parse_email(data, visibility=Visibility.FULL)
    assert parsed.body == "Bonjour !\n\nDevis prêt.\n\n> ancien"  # HTML blanks, nbsp included, collapse
    assert parsed.snippet == "Bonjour ! Devis prêt."


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 100, b"\xff\xfe" * 500, b"From:", b":::\r\n\r\n", b"\r\n\r\n\r\n", b"Subject: =?", bytearray(b"x")],
)
def test_never_raises_on_junk(data) -> None:
    parsed = parse_email(data)
    assert not [r for r in parsed.repairs if r.startswith("parse:internal-error")]


def test_wrong_argument_types_degrade_instead_of_raising() -> None:
    parsed = parse_email(None)  # type: ignore[arg-type]
    assert parsed.repairs[0].startswith("parse:internal-error") and parsed.date == EPOCH
    assert parse_email(memoryview(MESSAGE)).message_id == "abc.123@mail.acme-industrie.fr"
    assert parse_email(MESSAGE.decode("utf-8")).subject == "Re: Devis n°42"  # type: ignore[arg-type]
    assert parse_email(MESSAGE, received_at="yesterday").date.year == 2024  # type: ignore[arg-type]
