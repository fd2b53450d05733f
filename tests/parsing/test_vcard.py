"""vCard 2.1 / 3.0 / 4.0 exports (Outlook, Apple, Google, Android) read into contacts; bad input never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.pipeline.parse_vcard import VCardContact, parse_vcard, read_cards

OUTLOOK_21 = (
    b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;LANGUAGE=fr;CHARSET=Windows-1252:Martin;\xc9lise\r\n"
    b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=89lise Martin (Client SA=\r\n"
    b" - Achats)\r\n"
    b"ORG;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Soci=E9t=E9 G=E9n=E9rale;Achats\r\n"
    b"TITLE:Acheteuse\r\nTEL;WORK;VOICE:01 40 00 00 00\r\nTEL;CELL;VOICE:06 12 34 56 78\r\n"
    b"EMAIL;PREF;INTERNET:Elise.Martin@Client-SA.fr\r\n"
    b"PHOTO;TYPE=JPEG;ENCODING=BASE64:\r\n /9j/4AAQSkZJRgABAQEAYABgAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHR\r\n"
    b" ofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/\r\n\r\n"
    b"END:VCARD\r\n"
)
APPLE_30 = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//macOS 14.0//EN\r\nN:Dupont;Jean;Pierre;M.;\r\n"
    b"FN:Jean Dupont\r\nORG:Acme Industrie\\, SAS;Direction commerciale;\r\nTITLE:Directeur commercial\r\n"
    b"item1.EMAIL;type=INTERNET;type=WORK;type=pref:jean.dupont@acme-industrie.fr\r\nitem1.X-ABLabel:_$!<Work>!$_\r\n"
    b"EMAIL;type=INTERNET;type=HOME:jean.dupont@gmail.com\r\n"
    b"TEL;type=CELL;type=VOICE;type=pref:+33 6 98 76 54 32\r\n"
    b"ADR;type=WORK:;;12 rue de la Paix;Paris;;75002;France\r\n"
    b"NOTE:Rencontr\xc3\xa9 au salon\\, tr\xc3\xa8s int\xc3\xa9ress\xc3\xa9 par la gamme 2027\\nRappeler en janvier\r\n"
    b"UID:5D1F7E2C-AAAA-4BBB-8CCC-0123456789AB\r\nEND:VCARD\r\n"
)
GOOGLE_40 = (
    b"BEGIN:VCARD\nVERSION:4.0\nFN:Marie Curie\nN:Curie;Marie;;;\nEMAIL;TYPE=work:m.curie@client-sa.fr\n"
    b"EMAIL;PREF=1;TYPE=home:marie.curie@example.org\n"
    b'TEL;VALUE=uri;TYPE="voice,cell":tel:+33-6-12-34-56-78\nTEL;VALUE=uri;TYPE=work:tel:+33-1-40-00-00-01;ext=12\n'
    b"ORG:Client SA\nTITLE:Responsable achats\nEND:VCARD\n"
    b"BEGIN:VCARD\nVERSION:4.0\nKIND:org\nFN:Client SA\nEMAIL:contact@client-sa.fr\nTEL:02 40 00 00 00\nEND:VCARD\n"
)


def test_outlook_21_with_quoted_printable_charsets_and_a_photo() -> None:
    (contact,) = parse_vcard(OUTLOOK_21)
    assert contact.full_name == "Élise Martin (Client SA - Achats)"
    assert (contact.first_name, contact.last_name) == ("Élise", "Martin")
    assert contact.org == "Société Générale"
    assert contact.title == "Acheteuse"
    assert contact.emails == ("elise.martin@client-sa.fr",)
    assert contact.phones == ("01 40 00 00 00", "06 12 34 56 78")
    assert "charset:cp1252" in contact.repairs  # the N line is Windows-1252, the rest ASCII


def test_apple_30_groups_escapes_and_preferred_email_first() -> None:
    (contact,) = parse_vcard(APPLE_30)
    assert contact == VCardContact(
        full_name="Jean Dupont",
        first_name="Jean",
        last_name="Dupont",
        emails=("jean.dupont@acme-industrie.fr", "jean.dupont@gmail.com"),
        phones=("+33 6 98 76 54 32",),
        org="Acme Industrie, SAS",
        title="Directeur commercial",
        uid="5D1F7E2C-AAAA-4BBB-8CCC-0123456789AB",
        repairs=(),
    )


def test_google_40_several_cards_pref_parameter_and_tel_uris() -> None:
    person, company = parse_vcard(GOOGLE_40)
    assert person.emails == ("marie.curie@example.org", "m.curie@client-sa.fr")
    assert person.phones == ("+33-6-12-34-56-78", "+33-1-40-00-00-01")
    assert (person.org, person.title) == ("Client SA", "Responsable achats")
    assert company.full_name == "Client SA" and company.first_name == "" and company.phones == ("02 40 00 00 00",)


def test_a_missing_fn_is_built_from_n_then_org_then_email() -> None:
    cards = (
        b"BEGIN:VCARD\nVERSION:3.0\nN:Durand;Paul;;;\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nORG:Bernard & Fils\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nEMAIL:info@bernard-fils.fr\nEND:VCARD\n"
    )
    names = [(c.full_name, c.repairs) for c in parse_vcard(cards)]
    assert names == [
        ("Paul Durand", ("fn:from-n",)),
        ("Bernard & Fils", ("fn:from-org",)),
        ("info@bernard-fils.fr", ("fn:from-email",)),
    ]


def test_bad_emails_are_dropped_with_a_repair_and_empty_cards_skipped() -> None:
    cards = (
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEMAIL:not an address\nEMAIL:ann@client.fr\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nNOTE:nothing to match on\nEND:VCARD\n"
    )
    (ann,) = parse_vcard(cards)
    assert ann.emails == ("ann@client.fr",) and "email:invalid" in ann.repairs


def test_a_truncated_file_keeps_its_last_card_and_says_so() -> None:
    cards = b"BEGIN:VCARD\nFN:Whole\nEND:VCARD\nBEGIN:VCARD\nFN:Cut\nEMAIL:cut@x.fr\nTEL:01"
    whole, cut = parse_vcard(cards)
    assert whole.repairs == () and cut.emails == ("cut@x.fr",)
    assert "component:truncated:VCARD" in cut.repairs


def test_a_nested_agent_card_is_not_a_contact_of_its_own() -> None:
    card = b"BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nAGENT:\nBEGIN:VCARD\nFN:Assistant\nEND:VCARD\nEMAIL:boss@x.fr\nEND:VCARD\n"
    assert [(c.full_name, c.emails) for c in parse_vcard(card)] == [("Boss", ("boss@x.fr",))]


def test_folded_lines_bom_and_lowercase_keywords() -> None:
    card = b"\xef\xbb\xbfbegin:vcard\r\nversion:3.0\r\nfn:Anne-Sophie\r\n  de La Tour\r\nemail:as@latour.fr\r\nend:vcard\r\n"
    (contact,) = parse_vcard(card)
    assert contact.full_name == "Anne-Sophie de La Tour" and contact.emails == ("as@latour.fr",)


def test_garbage_gives_no_contact() -> None:
    for data in (b"", b"\x00\xff" * 50, b"<html>502</html>", b"END:VCARD\n", b"BEGIN:VCARD\n"):
        assert parse_vcard(data) == ()


SEEDS = [OUTLOOK_21, APPLE_30, GOOGLE_40]
TOKENS = st.sampled_from(
    [b"\r\n", b"\r\n ", b":", b";", b"=", b'"', b"BEGIN:VCARD\r\n", b"END:VCARD\r\n", b"ENCODING=QUOTED-PRINTABLE",
     b"=\r\n", b"=C3", b"CHARSET=nope", b"\\", b"item9.", b"\x00", "é".encode("cp1252"), b"BASE64"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 30), st.one_of(TOKENS, st.binary(max_size=8)))),
)
def test_mutated_cards_never_raise(seed: bytes, edits: list[tuple[int, int, bytes]]) -> None:
    buffer = bytearray(seed)
    for position, delete, insert in edits:
        at = position % (len(buffer) + 1)
        buffer[at : at + delete] = insert
    for contact in read_cards(bytes(buffer)):  # without parse_vcard's catch-all, so a crash would show
        assert isinstance(contact, VCardContact)
        assert contact.full_name or contact.emails or contact.phones
        assert all("@" in address for address in contact.emails)


def test_text_input_is_accepted() -> None:
    assert [c.full_name for c in parse_vcard("BEGIN:VCARD\nFN:Zoé\nEND:VCARD\n")] == ["Zoé"]  # type: ignore[arg-type]
