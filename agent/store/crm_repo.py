"""Writes to the CRM side: contacts and companies from imports, and re-linking stored participants without refetching."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.matching.addresses import AliasRules, canonical_alias, normalize_address
from agent.matching.contacts_file import ContactRow
from agent.matching.domains import registrable_domain
from agent.matching.matcher import MatchPolicy
from agent.store.models import Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.sql import chunks


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    companies_created: int = 0
    relinked: int = 0
    contact_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "companies_created": self.companies_created, "relinked": self.relinked}


def e164(raw: str, region: str = "FR") -> str:
    """A phone number in E.164 when it parses, else the input trimmed (never lost)."""
    if not raw.strip():
        return ""
    try:
        number = phonenumbers.parse(raw, region)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return raw.strip()


def resolve_company(session: Session, name: str, domains: Iterable[str], now: datetime, *, create: bool = True) -> tuple[Company | None, bool]:
    """The company owning one of ``domains``, else the one named ``name``, else a new one. (company, created)."""
    domains = [d for d in dict.fromkeys(domains) if d]
    for domain in domains:
        company = session.scalar(select(Company).join(CompanyDomain).where(CompanyDomain.domain == domain))
        if company is not None:
            _add_domains(session, company, domains)
            return _surviving(session, company), False
    if name:
        company = session.scalar(select(Company).where(Company.name.ilike(name.strip())).where(Company.merged_into_id.is_(None)))
        if company is not None:
            _add_domains(session, company, domains)
            return company, False
    if not create or not (name or domains):
        return None, False
    company = Company(name=name.strip() or domains[0], source="import", created_at=now, updated_at=now, details={})
    session.add(company)
    session.flush()
    _add_domains(session, company, domains)
    return company, True


def _surviving(session: Session, company: Company) -> Company:
    while company.merged_into_id is not None:
        company = session.get(Company, company.merged_into_id)
    return company


def _add_domains(session: Session, company: Company, domains: Sequence[str]) -> None:
    for domain in domains:
        if session.scalar(select(CompanyDomain.id).where(CompanyDomain.domain == domain)) is None:
            session.add(CompanyDomain(company_id=company.id, domain=domain))
    session.flush()


def import_contacts(session: Session, rows: Sequence[ContactRow], policy: MatchPolicy, now: datetime, *, region: str = "FR") -> ImportResult:
    """Create or complete contacts (a non-empty value from the file wins), then re-link stored participants."""
    result = ImportResult()
    touched_domains: set[str] = set()
    for row in rows:
        company_domains = [d for d in (registrable_domain(row.website) if row.website else None,
                                       *(policy.company_domain(e) for e in row.emails)) if d]
        company = None
        if row.company or company_domains:
            company, created = resolve_company(session, row.company, company_domains, now, create=bool(row.company))
            result.companies_created += created
            touched_domains.update(company_domains)
        contact = _existing_contact(session, row.emails)
        values = {
            "display_name": row.display_name, "first_name": row.first_name, "last_name": row.last_name,
            "phone": e164(row.phone, region), "title": row.title, "status": row.status,
        }
        if contact is None:
            contact = Contact(source="import", created_at=now, updated_at=now, tags=list(row.tags),
                              company_id=company.id if company else None,
                              **{k: v for k, v in values.items()})
            session.add(contact)
            session.flush()
            result.created += 1
        else:
            changed = False
            for key, value in values.items():
                if value and getattr(contact, key) != value:
                    setattr(contact, key, value)
                    changed = True
            if company is not None and contact.company_id != company.id:
                contact.company_id = company.id
                changed = True
            new_tags = [t for t in row.tags if t not in (contact.tags or [])]
            if new_tags:
                contact.tags = [*(contact.tags or []), *new_tags]
                changed = True
            if changed:
                contact.updated_at = now
            result.updated += changed
            result.unchanged += not changed
        has_primary = any(a.is_primary for a in contact.addresses)
        for address in row.emails:
            if session.scalar(select(ContactAddress.id).where(ContactAddress.address == address)) is None:
                session.add(ContactAddress(contact_id=contact.id, address=address, is_primary=not has_primary))
                has_primary = True
        session.flush()
        result.contact_ids.append(contact.id)
    result.relinked = relink_participants(session, contact_ids=result.contact_ids, domains=touched_domains,
                                          aliases=policy.alias_rules)
    return result


def _existing_contact(session: Session, emails: Sequence[str]) -> Contact | None:
    if not emails:
        return None
    contact = session.scalar(select(Contact).join(ContactAddress).where(ContactAddress.address.in_(list(emails))).limit(1))
    while contact is not None and contact.merged_into_id is not None:
        contact = session.get(Contact, contact.merged_into_id)
    return contact


def relink_participants(session: Session, *, contact_ids: Iterable[int] = (), domains: Iterable[str] = (),
                        aliases: AliasRules | None = None) -> int:
    """Re-match stored participants after contacts, addresses or company domains changed — no refetch.

    Bounded: only participants carrying one of the contacts' addresses or one of the domains are read, through the
    address and domain indexes, ``RELINK_CHUNK`` keys at a time, and only rows whose link changes are written (one
    executemany per chunk). Manual links are never touched; a contact link replaces a weaker one (created,
    reply-inherited); a company link through the contact replaces a domain or inherited one; a domain link only
    fills a participant without company. With ``aliases`` (the account's alias rules), participants written in an
    alias form of a contact's address (``jean.dupont+crm@googlemail.com`` for ``jeandupont@gmail.com``) are linked
    too, as live matching would, but never taken from another contact. Idempotent: a second call writes nothing.
    Returns the rows updated.
    """
    owners: dict[str, tuple[int, str, int | None]] = {}
    for part in chunks(list(dict.fromkeys(contact_ids)), RELINK_CHUNK):
        rows = session.execute(
            select(ContactAddress.address, ContactAddress.is_primary, Contact.id, Contact.company_id)
            .join(Contact, Contact.id == ContactAddress.contact_id)
            .where(Contact.id.in_(part), Contact.merged_into_id.is_(None))
        )
        for address, is_primary, contact_id, company_id in rows:
            owners[address] = (contact_id, "exact" if is_primary else "alias", company_id)
    updated = 0
    for part in chunks(sorted(owners), RELINK_CHUNK):
        updated += _link_to_owners(session, Participant.address.in_(part), owners, None)
    if aliases is not None and aliases.by_domain and owners:
        scan: set[str] = set()
        for address in owners:
            if canonical_alias(address, aliases) == address:  # only a canonical address has alias forms to find
                scan.update(d for d in map(registrable_domain, aliases.domains_aliasing_to(address.rpartition("@")[2]))
                            if d)
        for part in chunks(sorted(scan), RELINK_CHUNK):
            updated += _link_to_owners(session, Participant.domain.in_(part), owners, aliases)
    by_domain = []
    for part in chunks(sorted(set(d for d in domains if d)), RELINK_CHUNK):
        by_domain.extend(session.execute(select(CompanyDomain.domain, CompanyDomain.company_id)
                                         .where(CompanyDomain.domain.in_(part))).all())
    for domain, company_id in by_domain:
        result = session.execute(
            update(Participant)
            .where(and_(Participant.domain == domain, Participant.is_internal.is_(False),
                        Participant.company_id.is_(None)))
            .values(company_id=company_id, company_reason="domain")
        )
        updated += result.rowcount or 0
    return updated


def _link_to_owners(session: Session, where, owners: dict[str, tuple[int, str, int | None]],
                    aliases: AliasRules | None) -> int:
    """Point the participants ``where`` selects at the contacts owning their address (or, with ``aliases``, the
    canonical form of it); returns the rows changed."""
    changes = []
    for pid, address, contact_id, contact_reason, company_id, company_reason in session.execute(
        select(Participant.id, Participant.address, Participant.contact_id, Participant.contact_reason,
               Participant.company_id, Participant.company_reason)
        .where(where, Participant.is_internal.is_(False))
    ):
        if aliases is None:
            owner, reason, owner_company = owners[address]
        else:
            key = canonical_alias(address, aliases)
            if address in owners or key not in owners or contact_reason not in (None, "reply-inherited"):
                continue  # an exact owner was handled already; an address with its own contact keeps it
            (owner, _, owner_company), reason = owners[key], "alias"
        new = [contact_id, contact_reason, company_id, company_reason]
        if contact_reason != "manual":
            new[0], new[1] = owner, reason
        if owner_company is not None and company_reason in (None, "domain", "reply-inherited", "exact", "alias",
                                                            "created"):
            new[2], new[3] = owner_company, reason
        if new != [contact_id, contact_reason, company_id, company_reason]:
            changes.append({"pid": pid, "c": new[0], "cr": new[1], "k": new[2], "kr": new[3]})
    if changes:
        session.execute(_SET_LINKS, changes)
    return len(changes)


RELINK_CHUNK = 500
_P = Participant.__table__
_SET_LINKS = (update(_P).where(_P.c.id == bindparam("pid"))
              .values(contact_id=bindparam("c"), contact_reason=bindparam("cr"), company_id=bindparam("k"),
                      company_reason=bindparam("kr")))


def add_contact_address(session: Session, contact_id: int, raw: str, *, primary: bool = False,
                        aliases: AliasRules | None = None) -> dict:
    """Give a contact one more address; stored participants with it are linked at once (alias, or exact)."""
    address = normalize_address(raw)
    if address is None:
        raise UserError(f"{raw!r} is not an email address")
    contact = session.get(Contact, contact_id)
    if contact is None or contact.merged_into_id is not None:
        raise UserError(f"no contact with id {contact_id}" if contact is None else
                        f"contact #{contact_id} was merged into #{contact.merged_into_id}")
    owner = session.scalar(select(ContactAddress.contact_id).where(ContactAddress.address == address))
    if owner is not None:
        raise UserError(f"{address} already belongs to contact #{owner}")
    if primary:
        session.execute(update(ContactAddress).where(ContactAddress.contact_id == contact_id).values(is_primary=False))
    has_primary = session.scalar(select(ContactAddress.id).where(ContactAddress.contact_id == contact_id,
                                                                 ContactAddress.is_primary.is_(True)))
    session.add(ContactAddress(contact_id=contact_id, address=address, is_primary=primary or has_primary is None))
    session.flush()
    relinked = relink_participants(session, contact_ids=[contact_id], aliases=aliases)
    return {"contact_id": contact_id, "address": address, "relinked": relinked}


def add_company_domain(session: Session, company_id: int, raw: str) -> dict:
    """Give a company one more domain (any form: URL, www., address); participants on it are linked at once."""
    domain = registrable_domain(raw.strip().lstrip("@"))
    if domain is None:
        raise UserError(f"{raw!r} is not a domain a company can own")
    company = session.get(Company, company_id)
    if company is None:
        raise UserError(f"no company with id {company_id}")
    company = _surviving(session, company)
    owner = session.scalar(select(CompanyDomain.company_id).where(CompanyDomain.domain == domain))
    if owner is not None and owner != company.id:
        raise UserError(f"{domain} already belongs to company #{owner}")
    if owner is None:
        session.add(CompanyDomain(company_id=company.id, domain=domain))
        session.flush()
    return {"company_id": company.id, "domain": domain, "relinked": relink_participants(session, domains=[domain])}
