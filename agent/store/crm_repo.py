"""Writes to the CRM side: contacts and companies from imports, and re-linking stored participants without refetching."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

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
    result.relinked = relink_participants(session, contact_ids=result.contact_ids, domains=touched_domains)
    return result


def _existing_contact(session: Session, emails: Sequence[str]) -> Contact | None:
    if not emails:
        return None
    contact = session.scalar(select(Contact).join(ContactAddress).where(ContactAddress.address.in_(list(emails))).limit(1))
    while contact is not None and contact.merged_into_id is not None:
        contact = session.get(Contact, contact.merged_into_id)
    return contact


def relink_participants(session: Session, *, contact_ids: Iterable[int] = (), domains: Iterable[str] = ()) -> int:
    """Re-match stored participants after contacts, addresses or company domains changed — no refetch.

    Only participants with no link (or a weaker one: a domain link gets upgraded to the contact's company) change;
    manual links are never touched. Idempotent. Returns the number of participant rows updated.
    """
    updated = 0
    ids = list(dict.fromkeys(contact_ids))
    for part in chunks(ids, 200):
        rows = session.execute(
            select(ContactAddress.address, ContactAddress.is_primary, Contact.id, Contact.company_id)
            .join(Contact, Contact.id == ContactAddress.contact_id).where(Contact.id.in_(part))
        ).all()
        for address, is_primary, contact_id, company_id in rows:
            reason = "exact" if is_primary else "alias"
            result = session.execute(
                update(Participant)
                .where(Participant.address == address, Participant.is_internal.is_(False),
                       (Participant.contact_reason.is_(None)) | (Participant.contact_reason.not_in(("manual",))))
                .where((Participant.contact_id.is_(None)) | (Participant.contact_id != contact_id) | (Participant.contact_reason != reason))
                .values(contact_id=contact_id, contact_reason=reason)
            )
            updated += result.rowcount or 0
            if company_id is not None:
                result = session.execute(
                    update(Participant)
                    .where(Participant.address == address, Participant.is_internal.is_(False),
                           (Participant.company_reason.is_(None)) | (Participant.company_reason == "domain"))
                    .where((Participant.company_id.is_(None)) | (Participant.company_id != company_id) | (Participant.company_reason != reason))
                    .values(company_id=company_id, company_reason=reason)
                )
                updated += result.rowcount or 0
    for domain in dict.fromkeys(domains):
        company_id = session.scalar(select(CompanyDomain.company_id).where(CompanyDomain.domain == domain))
        if company_id is None:
            continue
        result = session.execute(
            update(Participant)
            .where(and_(Participant.domain == domain, Participant.is_internal.is_(False), Participant.company_id.is_(None)))
            .values(company_id=company_id, company_reason="domain")
        )
        updated += result.rowcount or 0
    return updated
