"""Company listings and the company page: its domains, its people and its timeline, as JSON-ready dicts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.store.models import Interaction, Participant
from agent.store.models_crm import Company, CompanyDomain, Contact
from agent.views.timeline import contact_summary, find_company, interaction_rows


def company_summary(company: Company) -> dict:
    return {"id": company.id, "name": company.name, "domains": sorted(d.domain for d in company.domains),
            "phone": company.phone, "street": company.street, "postcode": company.postcode, "city": company.city,
            "siren": company.siren, "source": company.source}


def list_companies(session: Session, *, search: str | None = None, limit: int = 200) -> list[dict]:
    stmt = select(Company).where(Company.merged_into_id.is_(None)).order_by(func.lower(Company.name), Company.id)
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(or_(func.lower(Company.name).like(like),
                              Company.id.in_(select(CompanyDomain.company_id).where(CompanyDomain.domain.like(like)))))
    companies = list(session.scalars(stmt.limit(limit)))
    ids = [c.id for c in companies]
    people = dict(session.execute(
        select(Contact.company_id, func.count()).where(Contact.company_id.in_(ids), Contact.merged_into_id.is_(None))
        .group_by(Contact.company_id)).all()) if ids else {}
    counts = dict(session.execute(
        select(Participant.company_id, func.count(func.distinct(Participant.interaction_id)))
        .where(Participant.company_id.in_(ids)).group_by(Participant.company_id)).all()) if ids else {}
    return [{**company_summary(c), "contacts": people.get(c.id, 0), "interactions": counts.get(c.id, 0)}
            for c in companies]


def company_page(session: Session, ref: str, zone: ZoneInfo, *, limit: int = 200) -> dict:
    """A company (by id, domain or name), its contacts and the interactions linked to it, newest first."""
    company = find_company(session, ref.strip())
    if company is None:
        raise UserError(f"no company matches {ref!r}")
    contacts = list(session.scalars(
        select(Contact).where(Contact.company_id == company.id, Contact.merged_into_id.is_(None))
        .order_by(func.lower(Contact.display_name), Contact.id)))
    names = {company.id: company.name}
    stmt = select(Interaction).where(Interaction.id.in_(
        select(Participant.interaction_id).where(Participant.company_id == company.id)))
    return {"company": company_summary(company), "contacts": [contact_summary(c, names) for c in contacts],
            "timeline": interaction_rows(session, stmt, zone, limit)}
