"""Address normalization and alias rules: one spelling per mailbox, aliases only where configured."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import UserError
from agent.matching.addresses import (
    AliasRules,
    DomainAliasRule,
    ascii_domain,
    canonical_alias,
    normalize_address,
    split_address,
)

NORMALIZED = [
    # case and blanks
    ("alice@example.fr", "alice@example.fr"),
    ("  Alice@Example.FR \n", "alice@example.fr"),
    ("JEAN.DUPONT@ACME.CO.UK", "jean.dupont@acme.co.uk"),
    # display names, brackets, comments, mailto
    ("Alice <a@b.fr>", "a@b.fr"),
    ('"Dupont, Jean" <J.Dupont@Acme.fr>', "j.dupont@acme.fr"),
    ('"Jean <chef>" <jean@acme.fr>', "jean@acme.fr"),
    ("<a@b.fr>", "a@b.fr"),
    ("Alice <a@b.fr", "a@b.fr"),
    ("a@b.fr>", "a@b.fr"),
    ("a@b.fr (Alice Martin)", "a@b.fr"),
    ("mailto:Bob@X.fr", "bob@x.fr"),
    ("MAILTO:bob@x.fr?subject=Devis", "bob@x.fr"),
    # trailing dot of a fully qualified domain
    ("a@acme.fr.", "a@acme.fr"),
    # plus and dots are kept: aliases are canonical_alias's business
    ("Jean.Dupont+CRM@gmail.com", "jean.dupont+crm@gmail.com"),
    ("o'brien@acme.ie", "o'brien@acme.ie"),
    # IDN domains become punycode; Unicode local parts stay Unicode
    ("alice@exämple.fr", "alice@xn--exmple-cua.fr"),
    ("Jörg@Bücher.DE", "jörg@xn--bcher-kva.de"),
    ("contact@société.fr", "contact@xn--socit-esab.fr"),
    ("x@faß.de", "x@xn--fa-hia.de"),  # IDNA 2008: ß is kept, not folded to ss
    ("x@ＡＣＭＥ．ＦＲ", "x@acme.fr"),  # full-width forms map to ASCII (UTS #46)
    ("x@☃.net", "x@xn--n3h.net"),  # IDNA 2003 fallback
    ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),  # checked with the stdlib punycode codec
    ("andré@acme.fr", "andré@acme.fr"),
    ("andre\u0301@acme.fr", "andré@acme.fr"),  # decomposed accent composed (NFC)
]


@pytest.mark.parametrize(("raw", "expected"), NORMALIZED)
def test_normalizes_to_one_spelling(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "no-at-sign.fr",
        "@acme.fr",
        "jean@",
        "a@b@c.fr",
        "jean dupont@acme.fr",
        "jean@acme .fr",
        "jean\t@acme.fr",
        "jean@localhost",  # dotless domains, localhost included, are rejected
        "root@server",
        "a@192.168.1.1",
        "a@[192.168.1.1]",
        "a@[IPv6:::1]",
        "a@-acme.fr",
        "a@acme-.fr",
        "a@acme..fr",
        "a@.acme.fr",
        "a@acme.f_r",
        "a@under_score.fr",
        "a@acme.123",
        f"a@{'x' * 64}.fr",
        '"jean"@acme.fr',
        "jean,paul@acme.fr",
        "je;an@acme.fr",
        "jean\u200b@acme.fr",  # zero-width space
        "jean\x00@acme.fr",
        "Alice <>",
        "<>",
        "a@-.fr",
    ],
)
def test_rejects_what_is_not_one_address(raw: str) -> None:
    assert normalize_address(raw) is None


def test_keeps_the_local_part_case_when_asked() -> None:
    assert normalize_address("Jean.Dupont@ACME.fr", lowercase_local=False) == "Jean.Dupont@acme.fr"
    assert normalize_address("Jean.Dupont@ACME.fr", False) == "Jean.Dupont@acme.fr"
    assert normalize_address("Jörg <Jörg@Bücher.de>", lowercase_local=False) == "Jörg@xn--bcher-kva.de"


def test_non_text_is_not_an_address() -> None:
    assert normalize_address(None) is None  # type: ignore[arg-type]
    assert normalize_address(42) is None  # type: ignore[arg-type]


def test_repeated_calls_are_served_from_the_cache() -> None:
    address = "Cache.Probe@Example.fr"
    normalize_address(address)
    hits = normalize_address.cache_info().hits
    assert normalize_address(address) == "cache.probe@example.fr"
    assert normalize_address.cache_info().hits == hits + 1


def test_split_address() -> None:
    assert split_address("Jean <Jean@Mail.Acme.fr>") == ("jean", "mail.acme.fr")
    assert split_address("nonsense") is None


@pytest.mark.parametrize(
    ("domain", "expected"),
    [("Exämple.FR.", "xn--exmple-cua.fr"), ("acme.fr", "acme.fr"), ("ACME.FR", "acme.fr"), ("localhost", None),
     ("a..b", None), ("", None)],
)
def test_ascii_domain(domain: str, expected: str | None) -> None:
    assert ascii_domain(domain) == expected


# ---------------------------------------------------------------------------------------------- aliases


def test_no_alias_is_applied_unless_configured() -> None:
    rules = AliasRules()
    assert canonical_alias("Jean.Dupont+crm@gmail.com", rules) == "jean.dupont+crm@gmail.com"
    assert canonical_alias("j.d@googlemail.com", rules) == "j.d@googlemail.com"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("jean.dupont+crm@gmail.com", "jeandupont@gmail.com"),
        ("Jean.Dupont@GMail.com", "jeandupont@gmail.com"),
        ("j.e.a.n+a+b@googlemail.com", "jean@gmail.com"),
        ("Jean <jean.dupont+x@gmail.com>", "jeandupont@gmail.com"),
        ("jean.dupont+crm@acme.fr", "jean.dupont+crm@acme.fr"),  # only the configured domains
        ("+tag@gmail.com", "+tag@gmail.com"),  # a rule that would empty the local part is not applied
        ("...@gmail.com", "...@gmail.com"),
    ],
)
def test_gmail_preset(address: str, expected: str) -> None:
    assert canonical_alias(address, AliasRules.gmail()) == expected


def test_googlemail_folds_into_gmail_only_when_configured() -> None:
    dots_only = AliasRules.from_config({"googlemail.com": {"ignore_dots": True}})
    assert canonical_alias("j.d+x@googlemail.com", dots_only) == "jd+x@googlemail.com"
    folded = AliasRules.from_config({"googlemail.com": {"canonical_domain": "GMail.com"}})
    assert canonical_alias("j.d@googlemail.com", folded) == "j.d@gmail.com"


def test_from_config_per_domain_and_wildcard() -> None:
    rules = AliasRules.from_config(
        {"@ACME.fr": {"plus_addressing": True}, "société.fr": {"ignore_dots": True}, "*": {"plus_addressing": True}}
    )
    assert rules.rule_for("acme.fr") == DomainAliasRule(plus_addressing=True)
    assert canonical_alias("a.b+x@acme.fr", rules) == "a.b@acme.fr"
    assert canonical_alias("a.b+x@société.fr", rules) == "ab+x@xn--socit-esab.fr"
    assert canonical_alias("a.b+x@other.com", rules) == "a.b@other.com"  # the "*" rule


def test_canonical_alias_leaves_non_addresses_alone() -> None:
    assert canonical_alias("not an address", AliasRules.gmail()) == "not an address"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"gmail.com": {"plus": True}}, "unknown option 'plus'"),
        ({"gmail.com": {"ignore_dots": "yes"}}, "ignore_dots of 'gmail.com' must be true or false"),
        ({"gmail.com": True}, "'gmail.com' must map to options"),
        ({"not a domain": {"ignore_dots": True}}, "'not a domain' is not a domain"),
        ({"googlemail.com": {"canonical_domain": 3}}, "canonical_domain of 'googlemail.com'"),
        ({"googlemail.com": {"canonical_domain": "local"}}, "canonical_domain 'local'"),
    ],
)
def test_bad_alias_config_names_the_problem(config: dict, message: str) -> None:
    with pytest.raises(UserError, match="alias rules") as caught:
        AliasRules.from_config(config)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_alias_rules_are_hashable_values() -> None:
    assert AliasRules.gmail() == AliasRules.gmail()
    assert hash(AliasRules.gmail()) == hash(AliasRules.gmail())
    assert AliasRules.gmail() != AliasRules()


# ---------------------------------------------------------------------------------------------- properties

_local_chars = st.sampled_from("abcXYZ019.+-_'éÉßİı用")
_domain_labels = st.from_regex(r"[a-zA-Zäöüé0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)
address_like = st.builds(
    lambda local, labels, tld, name: f"{name} <{local}@{'.'.join(labels)}.{tld}>" if name else f"{local}@"
    f"{'.'.join(labels)}.{tld}",
    st.text(_local_chars, min_size=1, max_size=12),
    st.lists(_domain_labels, min_size=1, max_size=3),
    st.sampled_from(["fr", "COM", "co.uk", "de", "xn--p1ai", "рф"]),
    st.sampled_from(["", "Alice", '"Dupont, J."']),
)


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=60), address_like))
def test_normalize_never_raises_and_is_idempotent(raw: str) -> None:
    for lowercase_local in (True, False):
        once = normalize_address(raw, lowercase_local)
        if once is not None:
            assert normalize_address(once, lowercase_local) == once
            assert once.count("@") == 1
            assert once == once.strip()
            assert once.rpartition("@")[2].isascii()


@settings(max_examples=300)
@given(address_like)
def test_generated_addresses_are_accepted_with_a_lowercase_ascii_domain(raw: str) -> None:
    normalized = normalize_address(raw)
    if normalized is not None:
        domain = normalized.rpartition("@")[2]
        assert domain == domain.lower() and domain.isascii()


@given(st.one_of(st.text(max_size=40), address_like))
def test_canonical_alias_never_raises_and_is_idempotent(raw: str) -> None:
    rules = AliasRules.gmail()
    once = canonical_alias(raw, rules)
    assert canonical_alias(once, rules) == once
