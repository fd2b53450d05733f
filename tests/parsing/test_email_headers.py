"""email_headers: the field readers on their own (parse_email's tests cover them through whole headers)."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.pipeline.email_headers import (
    EPOCH,
    clear_caches,
    decode_8bit_header,
    decode_words,
    fallback_date,
    read_date,
    read_mailboxes,
    read_references,
)
from agent.records import Mailbox


def test_decode_words_keeps_plain_text_and_blanks_next_to_it() -> None:
    repairs: list[str] = []
    assert decode_words("Devis =?utf-8?q?n=C2=B0?= 42 =?utf-8?q?r=C3=A9vis=C3=A9?=", repairs) == "Devis n° 42 révisé"
    assert decode_words("sans mot encodé", repairs) == "sans mot encodé" and repairs == []


def test_decode_words_joins_adjacent_words_across_charsets_without_blanks() -> None:
    assert decode_words("=?iso-8859-1?q?caf=E9?=  =?utf-8?q?_cr=C3=A8me?=", []) == "café crème"


def test_decode_8bit_header_falls_back_per_line() -> None:
    repairs: list[str] = []
    text = decode_8bit_header("Subject: café\nFrom: Zoé".encode("cp1252"), repairs)
    assert text == "Subject: café\nFrom: Zoé" and repairs == ["header:8bit:cp1252"]


def test_read_references_without_brackets_and_with_duplicates() -> None:
    assert read_references("a@x b@y", []) == ("a@x", "b@y")
    assert read_references("<a@x> <a@x>", []) == ("a@x", "a@x")  # kept as written: the root is what counts
    assert read_references("", []) == ()


def test_read_mailboxes_reports_repairs_on_every_call_even_when_cached() -> None:
    clear_caches()
    for _ in range(2):
        repairs: list[str] = []
        assert read_mailboxes("a@x.fr, nonsense", "to", repairs) == (Mailbox("a@x.fr"),)
        assert repairs == ["address:invalid:to"]


def test_read_mailboxes_keeps_the_first_spelling_of_a_repeated_address() -> None:
    mailboxes = read_mailboxes('"Jean" <j@x.fr>, J@X.FR, "Autre" <j@x.fr>', "cc", [])
    assert mailboxes == (Mailbox("j@x.fr", "Jean"),)


def test_read_date_returns_none_and_records_unparseable() -> None:
    repairs: list[str] = []
    assert read_date("jeudi prochain", repairs) is None and repairs == ["date:unparseable"]
    assert read_date(None, repairs) is None and repairs == ["date:unparseable"]


def test_fallback_date_without_a_code_records_nothing() -> None:
    repairs: list[str] = []
    assert fallback_date(None, "", repairs) == EPOCH and repairs == []
    received = datetime(2024, 1, 1, tzinfo=UTC)
    assert fallback_date(received, "date:missing", repairs) == received
    assert repairs == ["date:missing->internaldate"]
