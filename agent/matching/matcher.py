"""Participant → contact and company links, each with the reason it was made (pure: lookups come in as tables)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agent.matching.addresses import AliasRules, canonical_alias
from agent.matching.domains import registrable_domain
from agent.records import MatchReason, ParticipantDraft


_UNSEEN = object()
_DOMAIN_MEMORY = 1 << 16


@dataclass(frozen=True, slots=True)
class ContactHit:
    """What the store knows of an address: its contact, whether it is the primary address, the contact's company."""

    contact_id: int
    is_primary: bool
    company_id: int | None


@dataclass(frozen=True)
class MatchPolicy:
    own_domains: frozenset[str] = frozenset()
    own_addresses: frozenset[str] = frozenset()
    alias_rules: AliasRules = field(default_factory=AliasRules)
    is_free_mail: Callable[[str], bool] = lambda domain: False
    # a batch asks for the same few hundred domains thousands of times (lookup, then linking): remember the answers
    _company_domains: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    def is_internal(self, address: str) -> bool:
        if address in self.own_addresses:
            return True
        domain = address.rpartition("@")[2]
        if domain in self.own_domains:
            return True
        return any(domain.endswith("." + own) for own in self.own_domains)

    def company_domain(self, address: str) -> str | None:
        """The registrable domain that may identify a company, or None for free mail and odd domains."""
        host = address.rpartition("@")[2]
        known = self._company_domains.get(host, _UNSEEN)
        if known is not _UNSEEN:
            return known
        domain = registrable_domain(host)
        if domain is None or self.is_free_mail(domain) or domain in self.own_domains:
            domain = None
        if len(self._company_domains) >= _DOMAIN_MEMORY:
            self._company_domains.clear()
        self._company_domains[host] = domain
        return domain


def lookup_keys(addresses: Iterable[str], policy: MatchPolicy) -> tuple[set[str], set[str]]:
    """The addresses (with their alias forms) and domains a batch must look up."""
    keys: set[str] = set()
    domains: set[str] = set()
    aliases = policy.alias_rules if policy.alias_rules.by_domain else None  # most configurations have none
    for address in addresses:
        keys.add(address)
        if aliases is not None and (alias := canonical_alias(address, aliases)) != address:
            keys.add(alias)
        if (domain := policy.company_domain(address)) is not None:
            domains.add(domain)
    return keys, domains


def link_participants(
    participants: Iterable[ParticipantDraft],
    contacts: dict[str, ContactHit],
    domains: dict[str, int],
    policy: MatchPolicy,
) -> None:
    """Set contact and company links in place. Internal participants are never linked to customer records."""
    aliases = policy.alias_rules if policy.alias_rules.by_domain else None
    for p in participants:
        if p.is_internal or p.contact_reason is MatchReason.MANUAL:
            continue
        hit = contacts.get(p.address)
        reason = MatchReason.EXACT if hit and hit.is_primary else MatchReason.ALIAS
        if hit is None and aliases is not None:
            alias = canonical_alias(p.address, aliases)
            hit = contacts.get(alias) if alias != p.address else None
            reason = MatchReason.ALIAS
        if hit is not None:
            p.contact_id, p.contact_reason = hit.contact_id, reason
            if hit.company_id is not None:
                p.company_id, p.company_reason = hit.company_id, reason
                continue
        domain = policy.company_domain(p.address)
        if domain is not None and domain in domains:
            p.company_id, p.company_reason = domains[domain], MatchReason.DOMAIN
