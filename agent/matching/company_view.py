"""Companies as the CLI and the page show them: the list, and one company's page (domains, contacts, timeline)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.store.models import Interaction, Participant
from agent.store.models_crm import Company, CompanyDomain, Contact
from agent.store.models_matching import MergeLog
from agent.views.timeline import contact_summary, find_company, interaction_rows


def _domains(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if ids:
        for company_id, domain in session.execute(select(CompanyDomain.company_id, CompanyDomain.domain)
                                                  .where(CompanyDomain.company_id.in_(ids))
                                                  .order_by(CompanyDomain.domain)):
            out.setdefault(company_id, []).append(domain)
    return out


def company_summary(company: Company, domains: list[str]) -> dict:
    return {"id": company.id, "name": company.name, "domains": domains, "phone": company.phone,
            "street": company.street, "postcode": company.postcode, "city": company.city, "siren": company.siren,
            "source": company.source, "created_at": company.created_at.isoformat()}


def list_companies(session: Session, *, search: str | None = None, limit: int = 200) -> list[dict]:
    """Active companies by name, with their domains and how many contacts and interactions they have."""
    stmt = select(Company).where(Company.merged_into_id.is_(None)).order_by(func.lower(Company.name), Company.id)
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Company.name).like(like),
                              Company.id.in_(select(CompanyDomain.company_id).where(CompanyDomain.domain.like(like)))))
    companies = list(session.scalars(stmt.limit(limit)))
    ids = [c.id for c in companies]
    domains = _domains(session, ids)
    contacts: dict[int, int] = {}
    interactions: dict[int, tuple[int, object]] = {}
    if ids:
        contacts = {cid: n for cid, n in session.execute(
            select(Contact.company_id, func.count())
            .where(Contact.company_id.in_(ids), Contact.merged_into_id.is_(None))
            .group_by(Contact.company_id))}
        for cid, n, last in session.execute(
                select(Participant.company_id, func.count(func.distinct(Participant.interaction_id)),
                       func.max(Interaction.occurred_at))
                .join(Interaction, Interaction.id == Participant.interaction_id)
                .where(Participant.company_id.in_(ids)).group_by(Participant.company_id)):
            interactions[cid] = (n, last)
    out = []
    for c in companies:
        count, last = interactions.get(c.id, (0, None))
        out.append({**company_summary(c, domains.get(c.id, [])), "contacts": contacts.get(c.id, 0),
                    "interactions": count, "last_interaction": last.isoformat() if last else None})
    return out


def company_page(session: Session, ref: str, zone: ZoneInfo, *, limit: int = 200) -> dict:
    """One company (by id, domain or name; merged records lead to the survivor): domains, contacts, timeline."""
    company = find_company(session, ref.strip())
    if company is None:
        raise UserError(f"no company matches {ref!r} (an id, one of its domains, or its name)")
    names = {company.id: company.name}
    contacts = list(session.scalars(select(Contact).where(Contact.company_id == company.id,
                                                          Contact.merged_into_id.is_(None))
                                    .order_by(func.lower(Contact.display_name), Contact.id)))
    stmt = select(Interaction).where(Interaction.id.in_(
        select(Participant.interaction_id).where(Participant.company_id == company.id)))
    active_merge = (MergeLog.other_id == Company.id) & (MergeLog.kind == "company") & MergeLog.undone_at.is_(None)
    merged_from = [{"id": row_id, "name": name, "merge_id": merge_id} for row_id, name, merge_id in session.execute(
        select(Company.id, Company.name, MergeLog.id).join(MergeLog, active_merge)
        .where(Company.merged_into_id == company.id))]
    return {
        "company": company_summary(company, _domains(session, [company.id]).get(company.id, [])),
        "contacts": [contact_summary(c, names) for c in contacts],
        "merged_from": merged_from,
        "timeline": interaction_rows(session, stmt, zone, limit),
    }
