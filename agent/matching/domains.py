"""Domain normalization: the host and the registrable domain (the organisation's name on the internet) of anything.

``host_of`` accepts a URL, a bare host, an address or ``@domain`` and gives the lowercase punycode host.
``registrable_domain`` goes up to the label just below the public suffix, using the Public Suffix List shipped
with ``publicsuffixlist`` (offline), private section included: ``jean.github.io`` and ``cabinet.avocat.fr`` are
organisations of their own, as browsers treat them. It gives None for IP addresses, ``localhost``, single labels,
a public suffix itself (``co.uk``, ``gouv.fr``, ``avocat.fr``) and top-level domains the shipped list does not
know (``.local``, ``.lan``, ``.internal``: nobody outside the company writes from there).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from agent.matching.addresses import ascii_domain, normalize_address

_PUBLIC_SUFFIXES = PublicSuffixList(accept_unknown=False)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1 << 15)
def host_of(text: str) -> str | None:
    """``'https://WWW.Acme.fr:8443/contact'`` -> ``'www.acme.fr'``; ``'jean@Mail.Acme.fr'`` -> ``'mail.acme.fr'``.

    None when no domain name can be read (empty text, an IP address, a dotless name such as ``localhost``).
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if "://" in text or text.startswith("//"):  # a URL, possibly with "user:password@" before the host
        try:
            text = urlsplit(text if "://" in text else f"http:{text}").hostname or ""
        except ValueError:  # malformed IPv6 brackets and the like
            return None
    elif "@" in text or text[:7].lower() == "mailto:":
        # An address, "@acme.fr" or "Name <x@acme.fr>": the part after the last "@", brackets and comments gone.
        address = normalize_address(text)
        text = address.rpartition("@")[2] if address else text.rpartition("@")[2].strip(" <>")
    else:  # "www.acme.fr/contact", "acme.fr:8080"
        for separator in "/?#":
            text = text.partition(separator)[0]
        if text.count(":") == 1:
            text = text.partition(":")[0]
    text = text.strip().strip("[]")
    if not text or _is_ip(text):
        return None
    return ascii_domain(text)


@lru_cache(maxsize=1 << 15)
def registrable_domain(text: str) -> str | None:
    """``'https://www.acme.fr/contact'``, ``'user@mail.acme.co.uk'`` -> ``'acme.fr'``, ``'acme.co.uk'``; else None."""
    host = host_of(text)
    if host is None:
        return None
    return _PUBLIC_SUFFIXES.privatesuffix(host)


def domain_of(address: str) -> str | None:
    """``'Jean <jean@Mail.Acme.fr>'`` -> ``'mail.acme.fr'``: the normalized host of an address, None if not one."""
    normalized = normalize_address(address)
    if normalized is None:
        return None
    return normalized.rpartition("@")[2]


def is_public_suffix(domain: str) -> bool:
    """True for ``'co.uk'``, ``'gouv.fr'``, ``'fr'``: names under which anyone can register, never a company."""
    host = host_of(domain)
    if host is None and isinstance(domain, str):  # a top-level domain alone has no dot, which host_of refuses
        probe = ascii_domain("probe." + domain.strip().strip("@."))
        host = probe.partition(".")[2] if probe else None
    return host is not None and _PUBLIC_SUFFIXES.is_public(host)


@lru_cache(maxsize=256)
def _own_hosts(own_domains: frozenset[str]) -> frozenset[str]:
    hosts = (host_of(domain) for domain in own_domains)
    return frozenset(host for host in hosts if host is not None)


def is_under(host: str, domains: frozenset[str]) -> bool:
    """True when ``host`` is one of the normalized ``domains`` or a subdomain of one."""
    if host in domains:
        return True
    dot = host.find(".")
    while dot >= 0:
        host = host[dot + 1 :]
        if host in domains:
            return True
        dot = host.find(".")
    return False


def is_internal(address: str, own_domains: frozenset[str]) -> bool:
    """True when the address's domain is one of ``own_domains`` or a subdomain of one (``paris.acme.fr``).

    ``own_domains`` may be written in any form ``host_of`` reads (``'Acme.FR'``, ``'@acme.fr'``, IDN).
    """
    domain = domain_of(address)
    return domain is not None and is_under(domain, _own_hosts(own_domains))
