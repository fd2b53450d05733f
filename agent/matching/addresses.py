"""Email address normalization: one canonical string per mailbox, so matching is a dictionary lookup.

Rules of ``normalize_address`` (what counts as an address, and its one spelling):

- Surrounding blanks, a ``mailto:`` prefix (calendar attendees) and its ``?query``, a display name
  (``Alice <a@b.fr>`` and ``"Dupont, Jean" <j@b.fr>``: the last ``<…>`` wins) and RFC 822 comments
  (``a@b.fr (Alice)``) are removed.
- The domain is lowercased, loses a trailing dot, and an internationalized domain becomes punycode (IDNA 2008 with
  UTS #46 mapping; IDNA 2003 as a fallback for older names such as emoji domains).
- The local part is lowercased by default (``lowercase_local=False`` keeps its case). A Unicode local part
  (SMTPUTF8) is kept as Unicode, in NFC form, so composed and decomposed spellings agree.
- ``None`` for what is obviously not one mailbox: no ``@`` or several, an empty side, blanks or control characters,
  RFC 5322 specials (``"(),:;<>[]\\``) left in the local part, a domain literal (``[1.2.3.4]``), a domain that is an
  IP address or has no dot (``localhost`` included: nobody a CRM tracks lives there), a label that is empty, longer
  than 63 characters, starts or ends with ``-`` or holds anything but letters, digits and ``-``, and a top-level
  label that is not alphabetic (or ``xn--``). Lengths of the local part are not checked: bounce (VERP) addresses
  exceed the RFC limits in the wild and are still one mailbox.

Aliases (plus-addressing, Gmail dots, googlemail.com) are never applied here: ``canonical_alias`` applies them, and
only for the domains an ``AliasRules`` names (DESIGN §7: aliases only where configured).

``python -m agent.matching.addresses`` prints a micro benchmark of cached and uncached calls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import idna

from agent.errors import UserError

_CACHE_SIZE = 1 << 17

# One pass over the common case: a plain ASCII address, no display name. Anything else takes the slow path.
_ASCII_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_ASCII_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ASCII_TLD = r"(?:[A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59})"
_ASCII_DOMAIN = rf"(?:{_ASCII_LABEL}\.)+{_ASCII_TLD}"
_PLAIN_ADDRESS = re.compile(rf"({_ASCII_LOCAL})@({_ASCII_DOMAIN})\.?")
_VALID_ASCII_DOMAIN = re.compile(rf"{_ASCII_DOMAIN}\.?")

_COMMENT = re.compile(r"\([^()]*\)")
_LOCAL_FORBIDDEN = frozenset('"(),:;<>[]\\@')
# Blanks, controls, invisible format characters, surrogates, private-use and unassigned code points.
_BAD_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"})


def ascii_domain(domain: str) -> str | None:
    """``'Exämple.FR.'`` -> ``'xn--exmple-cua.fr'``: lowercase punycode without trailing dot; None when invalid.

    Shared by addresses, domains and free-mail checks so a domain has one spelling everywhere.
    """
    if domain.isascii():
        if not _VALID_ASCII_DOMAIN.fullmatch(domain):
            return None
        return domain.rstrip(".").lower()
    return _unicode_domain_to_ascii(domain)


@lru_cache(maxsize=4096)
def _unicode_domain_to_ascii(domain: str) -> str | None:
    encoded: str | None = None
    try:
        encoded = idna.encode(domain, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):
        try:  # names registered under IDNA 2003 (symbols, emoji) are still delivered to
            encoded = domain.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    if not _VALID_ASCII_DOMAIN.fullmatch(encoded):
        return None
    return encoded.rstrip(".").lower()


def _unwrap(text: str) -> str:
    """Strip ``mailto:``, a display name with angle brackets, and comments; what remains should be an address."""
    if text[:7].lower() == "mailto:":
        text = text[7:].partition("?")[0].strip()
    opening = text.rfind("<")
    if opening >= 0:
        closing = text.find(">", opening)
        # An unclosed bracket at the end ("Alice <a@b.fr") is a truncation, not a different address.
        text = text[opening + 1 : closing if closing >= 0 else len(text)].strip()
    elif "(" in text:
        previous = None
        while previous != text:  # nested comments come off one level at a time
            previous, text = text, _COMMENT.sub("", text)
    # Stray brackets left by a sloppy client ("a@b.fr>") are not part of the address.
    return text.strip().strip("<>").strip()


def _valid_local(local: str) -> bool:
    for char in local:
        if char.isascii():
            if char in _LOCAL_FORBIDDEN or char == " " or not char.isprintable():
                return False
        elif unicodedata.category(char) in _BAD_CATEGORIES:
            return False
    return True


def _normalize_slow(text: str, lowercase_local: bool) -> str | None:
    text = _unwrap(text)
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or not _valid_local(local):
        return None
    ascii_name = ascii_domain(domain)
    if ascii_name is None:
        return None
    if lowercase_local:
        local = local.lower()
    if not local.isascii():
        local = unicodedata.normalize("NFC", local)
        if lowercase_local:  # lowercasing can decompose (İ -> i̇): lower again after composing
            local = unicodedata.normalize("NFC", local.lower())
    return f"{local}@{ascii_name}"


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_address(raw: str, lowercase_local: bool = True) -> str | None:
    """``' Alice <Alice@Exämple.FR>'`` -> ``'alice@xn--exmple-cua.fr'``; None when ``raw`` is not one address.

    Cached: a mailbox seen again costs one dictionary lookup. See the module docstring for the rules.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    plain = _PLAIN_ADDRESS.fullmatch(text)
    if plain is not None:
        local, domain = plain.groups()
        return f"{local.lower() if lowercase_local else local}@{domain.lower()}"
    if not text:
        return None
    return _normalize_slow(text, lowercase_local)


def split_address(address: str) -> tuple[str, str] | None:
    """``'Jean@Acme.fr'`` -> ``('jean', 'acme.fr')``, normalized; None when it is not an address."""
    normalized = normalize_address(address)
    if normalized is None:
        return None
    local, _, domain = normalized.rpartition("@")
    return local, domain


# ---------------------------------------------------------------------------------------------- aliases


@dataclass(frozen=True, slots=True)
class DomainAliasRule:
    """How one domain spells aliases of a mailbox.

    ``plus_addressing``: ``jean+crm`` is ``jean``. ``ignore_dots``: ``j.ean`` is ``jean`` (Gmail).
    ``canonical_domain``: the domain the mailbox really lives on (``googlemail.com`` -> ``gmail.com``).
    """

    plus_addressing: bool = False
    ignore_dots: bool = False
    canonical_domain: str | None = None


_RULE_KEYS = frozenset({"plus_addressing", "ignore_dots", "canonical_domain"})
ANY_DOMAIN = "*"


@dataclass(frozen=True)
class AliasRules:
    """Per-domain alias rules from the config; a domain not named has no aliases unless ``'*'`` is configured.

    Nothing is on by default: ``AliasRules()`` leaves every address as it is. ``AliasRules.gmail()`` is the usual
    Gmail setup (dots and plus ignored, googlemail.com folded into gmail.com).
    """

    by_domain: tuple[tuple[str, DomainAliasRule], ...] = ()
    _lookup: Mapping[str, DomainAliasRule] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        lookup: dict[str, DomainAliasRule] = {}
        for domain, rule in self.by_domain:
            key = domain if domain == ANY_DOMAIN else ascii_domain(domain.strip().lstrip("@"))
            if key is None:
                raise UserError(f"alias rules: {domain!r} is not a domain")
            target = rule.canonical_domain
            if target is not None:
                canonical = ascii_domain(target.strip().lstrip("@"))
                if canonical is None:
                    raise UserError(f"alias rules: canonical_domain {target!r} of {domain!r} is not a domain")
                rule = DomainAliasRule(rule.plus_addressing, rule.ignore_dots, canonical)
            lookup[key] = rule
        object.__setattr__(self, "_lookup", lookup)

    @classmethod
    def from_config(cls, config: Mapping[str, Mapping[str, object]] | None) -> AliasRules:
        """``{"gmail.com": {"plus_addressing": true, "ignore_dots": true}}`` -> rules; bad keys raise UserError."""
        pairs: list[tuple[str, DomainAliasRule]] = []
        for domain, options in (config or {}).items():
            if not isinstance(options, Mapping):
                raise UserError(f"alias rules: {domain!r} must map to options, got {type(options).__name__}")
            unknown = sorted(set(options) - _RULE_KEYS)
            if unknown:
                raise UserError(f"alias rules: unknown option {unknown[0]!r} for {domain!r}")
            for flag in ("plus_addressing", "ignore_dots"):
                if not isinstance(options.get(flag, False), bool):
                    raise UserError(f"alias rules: {flag} of {domain!r} must be true or false")
            target = options.get("canonical_domain")
            if target is not None and not isinstance(target, str):
                raise UserError(f"alias rules: canonical_domain of {domain!r} must be a domain name")
            rule = DomainAliasRule(
                plus_addressing=bool(options.get("plus_addressing", False)),
                ignore_dots=bool(options.get("ignore_dots", False)),
                canonical_domain=target,
            )
            pairs.append((str(domain), rule))
        return cls(tuple(pairs))

    @classmethod
    def gmail(cls) -> AliasRules:
        """The usual Gmail configuration, for a config that opts in with one switch."""
        gmail = DomainAliasRule(plus_addressing=True, ignore_dots=True)
        googlemail = DomainAliasRule(plus_addressing=True, ignore_dots=True, canonical_domain="gmail.com")
        return cls((("gmail.com", gmail), ("googlemail.com", googlemail)))

    def rule_for(self, domain: str) -> DomainAliasRule | None:
        """The rule of a normalized domain, else the ``'*'`` rule, else None."""
        return self._lookup.get(domain) or self._lookup.get(ANY_DOMAIN)

    def domains_aliasing_to(self, domain: str) -> set[str]:
        """The domains whose addresses may be written as an alias of an address at ``domain`` (itself included when a
        rule applies to it): ``'gmail.com'`` -> ``{'gmail.com', 'googlemail.com'}`` under ``gmail()``."""
        found = {d for d, rule in self._lookup.items() if d != ANY_DOMAIN and (rule.canonical_domain or d) == domain}
        if self.rule_for(domain) is not None:
            found.add(domain)
        return found


def canonical_alias(address: str, rules: AliasRules) -> str:
    """``'Jean.Dupont+crm@googlemail.com'`` -> ``'jeandupont@gmail.com'`` under ``AliasRules.gmail()``.

    The address is normalized first. What is not an address comes back unchanged; a rule that would leave the
    local part empty (``'+tag@…'``, ``'.@…'``) is not applied.
    """
    normalized = normalize_address(address)
    if normalized is None:
        return address
    local, _, domain = normalized.rpartition("@")
    rule = rules.rule_for(domain)
    if rule is None:
        return normalized
    aliased = local
    if rule.plus_addressing:
        aliased = aliased.partition("+")[0]
    if rule.ignore_dots:
        aliased = aliased.replace(".", "")
    if not aliased:
        aliased = local
    return f"{aliased}@{rule.canonical_domain or domain}"


# ---------------------------------------------------------------------------------------------- benchmark


def _benchmark(count: int = 200_000) -> dict[str, float]:
    """Calls per second: cached hits, uncached ASCII, uncached with display names, uncached IDN."""
    from time import perf_counter

    def rate(function, inputs) -> float:  # noqa: ANN001 - local helper
        start = perf_counter()
        for item in inputs:
            function(item)
        return len(inputs) / (perf_counter() - start)

    plain = [f"Prenom{i}.Nom@Entreprise{i % 997}.fr" for i in range(count)]
    named = [f'"Nom, Prénom" <prenom{i}@exemple{i % 97}.fr>' for i in range(count // 4)]
    unicode_domain = [f"contact@société{i}.fr" for i in range(count // 4)]
    uncached = normalize_address.__wrapped__
    normalize_address.cache_clear()
    figures = {"uncached ascii (through the cache, all misses)": rate(normalize_address, plain)}
    figures["uncached ascii (no cache)"] = rate(uncached, plain)
    hits = plain[: _CACHE_SIZE // 2]
    for item in hits:
        normalize_address(item)
    figures["cached hits"] = rate(normalize_address, hits * 4)
    figures["uncached display name (no cache)"] = rate(uncached, named)
    _unicode_domain_to_ascii.cache_clear()
    figures["uncached IDN domain (no cache, first sight)"] = rate(uncached, unicode_domain)
    return figures


if __name__ == "__main__":
    for label, per_second in _benchmark().items():
        print(f"{label:48s} {per_second:12,.0f} calls/s")
