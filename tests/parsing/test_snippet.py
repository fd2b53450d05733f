"""snippet: charsets, HTML to text, and cutting the new text out of a reply."""

from __future__ import annotations

import pytest

from agent.pipeline.snippet import codec_for, decode_bytes, html_to_text, make_snippet, new_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Merci !\n\nLe lun. 3 juin 2024 à 10:12, Jean <j@x.fr> a écrit :\n> devis", "Merci !"),
        ("Merci !\n\nLe lun. 3 juin 2024 à 10:12, Jean Dupont <j@x.fr> a\nécrit :\n> devis", "Merci !"),
        ("Merci !\nLe 03/06/2024 à 10:12, Jean Dupont a écrit :\n> devis", "Merci !"),
        ("Thanks!\n\nOn Mon, Jun 3, 2024 at 10:12 AM Jean <j@x.fr>\nwrote:\n> quote", "Thanks!"),
        ("Thanks!\n\n-----Original Message-----\nFrom: Jean\nSent: Monday", "Thanks!"),
        ("Vu.\n\n-----Message d'origine-----\nDe : Jean", "Vu."),
        ("Pour info.\n\n---------- Forwarded message ---------\nFrom: Jean", "Pour info."),
        ("Pour info.\n\n-------- Message transféré --------\nSujet : devis", "Pour info."),
        ("OK.\n\nDe : Jean Dupont <j@x.fr>\nEnvoyé : lundi 3 juin 2024 10:12\nÀ : Claire", "OK."),
        ("OK.\n________________________________\nDe : Jean Dupont\nEnvoyé : lundi\nÀ : Claire", "OK."),
        ("OK.\n\nFrom: Jean Dupont\nSent: Monday, June 3\nTo: Claire", "OK."),
        ("Merci,\nJean\n-- \nJean Dupont\n01 23 45 67 89", "Merci,\nJean"),
        ("Bien reçu.\n\nEnvoyé de mon iPhone\n\n> Le 3 juin", "Bien reçu."),
        ("> question 1\nréponse 1\n> question 2\nréponse 2", "réponse 1\n\nréponse 2"),
        ("Le devis est prêt, je vous l'envoie.", "Le devis est prêt, je vous l'envoie."),
        ("On vous a écrit hier.\nLe chantier démarre lundi.", "On vous a écrit hier.\nLe chantier démarre lundi."),
    ],
)
def test_new_text(text, expected) -> None:
    assert " ".join(new_text(text).split()) == " ".join(expected.split())


def test_a_blank_line_stops_a_quote_header_search() -> None:
    text = "Le chantier avance.\n\nMerci à Claire qui a écrit : le rapport."
    assert new_text(text) == "Le chantier avance.\n\nMerci à Claire qui a écrit : le rapport."


def test_snippet_is_one_line_and_bounded() -> None:
    text = ("mot " * 200) + "\n-- \nsignature"
    snippet = make_snippet(text)
    assert "\n" not in snippet and len(snippet) <= 300 and snippet.endswith("…")
    assert "signature" not in snippet
    assert make_snippet("Court.\n\nTexte.") == "Court. Texte."


def test_html_to_text_blocks_quotes_and_hidden_parts() -> None:
    html = (
        "<html><head><title>t</title><style>.a{}</style><script>alert(1)</script></head><body>"
        "<div>Bonjour&nbsp;Jean,</div><p>Prix&nbsp;: 10&#8239;€ &amp; port<br>offert</p>"
        "<blockquote><p>Ancien message</p><blockquote>plus ancien</blockquote></blockquote><p>Fin</p></body></html>"
    )
    assert html_to_text(html, []) == (
        "Bonjour Jean,\n\nPrix : 10 € & port\noffert\n\n> Ancien message\n\n> > plus ancien\n\nFin"
    )


def test_html_to_text_survives_malformed_markup() -> None:
    repairs: list[str] = []
    text = html_to_text("<p>ok<![if !supportLists]>x<![endif]></p><div>fin", repairs)
    assert "ok" in text and "fin" in text


@pytest.mark.parametrize(
    ("raw", "charset", "expected", "repair"),
    [
        (b"caf\xc3\xa9", "utf-8", "café", None),
        (b"caf\xe9 \x80", "iso-8859-1", "café €", None),  # latin-1 labels are read as cp1252
        (b"caf\xc3\xa9", "iso-8859-1", "café", "charset:mislabeled:iso-8859-1"),
        (b"caf\xe9", "us-ascii", "café", "charset:mislabeled:us-ascii"),
        (b"caf\xe9", "utf-8", "café", "charset:mislabeled:utf-8"),
        (b"caf\xe9", None, "café", "charset:missing"),
        (b"caf\xc3\xa9", "x-foo", "café", "charset:unknown:x-foo"),
        (b"caf\xc3\xa9", "base64", "café", "charset:unknown:base64"),  # a codec, not a charset
        (b"\x81\x8d", "windows-1252", "\x81\x8d", None),  # undefined in cp1252: latin-1 maps every byte
        (b"abc", "anything", "abc", None),
        (b"\xa4\xa4", "gb2312", "い", None),
        (b"\xff\xfe\x00", "utf-16", "", "charset:invalid-bytes:utf-16"),
    ],
)
def test_decode_bytes(raw, charset, expected, repair) -> None:
    repairs: list[str] = []
    text = decode_bytes(raw, charset, repairs)
    if repair == "charset:invalid-bytes:utf-16":
        assert repair in repairs
        return
    assert text == expected
    assert repairs == ([repair] if repair else [])


@pytest.mark.parametrize(
    ("label", "codec"),
    [("UTF-8", "utf-8"), ('"utf8"', "utf-8"), ("ks_c_5601-1987", "cp949"), ("latin1", "cp1252"), ("rot13", None),
     ("idna", None), ("x-nonsense", None)],
)
def test_codec_for(label, codec) -> None:
    assert codec_for(label) == codec
