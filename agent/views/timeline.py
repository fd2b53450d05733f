"""Contacts, companies and interaction listings: the 360° timeline as JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.matching.addresses import normalize_address
from agent.store.models import Account, Interaction, Participant, Sighting, SyncTarget
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress


def _local(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value else None


def contact_summary(contact: Contact, company_names: dict[int, str]) -> dict:
    addresses = sorted(contact.addresses, key=lambda a: (not a.is_primary, a.address))
    return {
        "id": contact.id, "name": contact.display_name, "first_name": contact.first_name, "last_name": contact.last_name,
        "emails": [a.address for a in addresses], "phone": contact.phone, "title": contact.title,
        "status": contact.status, "tags": list(contact.tags or []),
        "company": company_names.get(contact.company_id) if contact.company_id else None,
        "company_id": contact.company_id, "source": contact.source,
    }


def list_contacts(session: Session, *, search: str | None = None, limit: int = 200) -> list[dict]:
    stmt = select(Contact).where(Contact.merged_into_id.is_(None)).order_by(func.lower(Contact.display_name), Contact.id)
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(or_(func.lower(Contact.display_name).like(like),
                              Contact.id.in_(select(ContactAddress.contact_id).where(ContactAddress.address.like(like)))))
    contacts = list(session.scalars(stmt.limit(limit)))
    names = dict(session.execute(select(Company.id, Company.name)).all())
    counts = dict(session.execute(
        select(Participant.contact_id, func.count(func.distinct(Participant.interaction_id)))
        .where(Participant.contact_id.in_([c.id for c in contacts])).group_by(Participant.contact_id)
    ).all()) if contacts else {}
    return [{**contact_summary(c, names), "interactions": counts.get(c.id, 0)} for c in contacts]


def find_contact(session: Session, ref: str) -> Contact | None:
    """A contact by id (``42``) or by any of its addresses."""
    if ref.isdigit():
        contact = session.get(Contact, int(ref))
    else:
        address = normalize_address(ref)
        if address is None:
            raise UserError(f"{ref!r} is neither a contact id nor an email address")
        contact = session.scalar(select(Contact).join(ContactAddress).where(ContactAddress.address == address))
    while contact is not None and contact.merged_into_id is not None:  # follow merges to the surviving record
        contact = session.get(Contact, contact.merged_into_id)
    return contact


def interaction_rows(session: Session, stmt: Select, zone: ZoneInfo, limit: int) -> list[dict]:
    interactions = list(session.scalars(stmt.order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit)))
    ids = [i.id for i in interactions]
    mailboxes: dict[int, set[str]] = {}
    if ids:
        for interaction_id, account, target in session.execute(
            select(Sighting.interaction_id, Account.name, SyncTarget.display)
            .join(SyncTarget, SyncTarget.id == Sighting.target_id).join(Account, Account.id == SyncTarget.account_id)
            .where(Sighting.interaction_id.in_(ids))
        ):
            mailboxes.setdefault(interaction_id, set()).add(f"{account}/{target}")
    senders: dict[int, dict] = {}
    if ids:  # the sender (emails) or organizer (meetings), so a listing says who without opening each item
        for interaction_id, address, name in session.execute(
            select(Participant.interaction_id, Participant.address, Participant.name)
            .where(Participant.interaction_id.in_(ids), Participant.role.in_(("from", "organizer")))
            .order_by(Participant.id)
        ):
            senders.setdefault(interaction_id, {"address": address, "name": name})
    out = []
    for i in interactions:
        out.append({
            "id": i.id, "kind": i.kind, "date": _local(i.occurred_at, zone), "end": _local(i.ends_at, zone),
            "direction": i.direction, "subject": i.subject, "snippet": i.snippet, "status": i.status,
            "mailboxes": sorted(mailboxes.get(i.id, ())), "removed": i.removed_at is not None,
            "thread_key": i.thread_key, "from": senders.get(i.id),
            "attachments": [str(a) for a in (i.details or {}).get("attachments", [])],
            **({"location": (i.details or {}).get("location", ""), "all_day": bool((i.details or {}).get("all_day"))}
               if i.kind == "meeting" else {}),
        })
    return out


def list_interactions(session: Session, zone: ZoneInfo, *, contact: str | None = None, company: str | None = None,
                      since: datetime | None = None, until: datetime | None = None, search: str | None = None,
                      kind: str | None = None, limit: int = 100) -> list[dict]:
    stmt = select(Interaction)
    if contact:
        found = find_contact(session, contact)
        if found is not None:
            stmt = stmt.where(Interaction.id.in_(select(Participant.interaction_id).where(Participant.contact_id == found.id)))
        else:
            address = normalize_address(contact)
            stmt = stmt.where(Interaction.id.in_(select(Participant.interaction_id).where(Participant.address == address)))
    if company:
        company_row = find_company(session, company)
        if company_row is None:
            raise UserError(f"no company matches {company!r}")
        stmt = stmt.where(Interaction.id.in_(select(Participant.interaction_id).where(Participant.company_id == company_row.id)))
    if since:
        stmt = stmt.where(Interaction.occurred_at >= since)
    if until:
        stmt = stmt.where(Interaction.occurred_at < until)
    if kind:
        stmt = stmt.where(Interaction.kind == kind)
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(or_(func.lower(Interaction.subject).like(like), func.lower(Interaction.snippet).like(like)))
    return interaction_rows(session, stmt, zone, limit)


def find_company(session: Session, ref: str) -> Company | None:
    """A company by id, by one of its domains, or by (case-insensitive) name."""
    if ref.isdigit():
        company = session.get(Company, int(ref))
    else:
        company = session.scalar(select(Company).join(CompanyDomain).where(CompanyDomain.domain == ref.lower().lstrip("@")))
        company = company or session.scalar(select(Company).where(func.lower(Company.name) == ref.lower()))
    while company is not None and company.merged_into_id is not None:
        company = session.get(Company, company.merged_into_id)
    return company


def contact_timeline(session: Session, ref: str, zone: ZoneInfo, *, limit: int = 200) -> dict:
    """A contact and its timeline; an address that is no contact yet still shows where it appeared."""
    contact = find_contact(session, ref)
    names = dict(session.execute(select(Company.id, Company.name)).all())
    if contact is None:
        address = normalize_address(ref) if not ref.isdigit() else None
        if address is None:
            raise UserError(f"no contact with id {ref}")
        stmt = select(Interaction).where(Interaction.id.in_(select(Participant.interaction_id).where(Participant.address == address)))
        rows = interaction_rows(session, stmt, zone, limit)
        if not rows:
            raise UserError(f"no contact and no interaction for {address}")
        return {"contact": None, "address": address, "timeline": rows}
    stmt = select(Interaction).where(Interaction.id.in_(select(Participant.interaction_id).where(Participant.contact_id == contact.id)))
    return {"contact": contact_summary(contact, names), "timeline": interaction_rows(session, stmt, zone, limit)}
