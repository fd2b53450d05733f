"""The review queue of unknown addresses in the store: counting sightings, listing, and a person's decisions.

An external address that appears on a new interaction without a contact, and that the account's policy did not
create, is counted here (interactions, how many we sent, first and last dates). A person then accepts it as a
contact, attaches it to a company, ignores it, or blocklists it; every decision is remembered, and accepting or
attaching re-links the stored participants at once (no refetch). Runs inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.matching.addresses import normalize_address
from agent.matching.domains import host_of, registrable_domain
from agent.matching.names import clean_display_name, split_person_name
from agent.matching.roles import address_kind
from agent.store.crm_repo import relink_participants
from agent.store.models import Interaction, Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.models_matching import BlockedAddress, ReviewUnknown
from agent.store.sql import chunks, dialect_insert


@dataclass
class Sightings:
    """What one batch saw of one unknown address (only interactions the batch created count)."""

    name: str = ""
    count: int = 0
    sent_count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    last_interaction_id: int | None = None
    reason: str = ""
    interactions: set[int] = field(default_factory=set)

    def add(self, interaction_id: int, when: datetime, name: str, sent: bool, reason: str) -> None:
        if interaction_id in self.interactions:  # one address in To and Cc of one mail counts once
            return
        self.interactions.add(interaction_id)
        self.count += 1
        self.sent_count += sent
        self.first_seen = when if self.first_seen is None else min(self.first_seen, when)
        if self.last_seen is None or when >= self.last_seen:
            self.last_seen, self.last_interaction_id = when, interaction_id
            self.name = clean_display_name(name) or self.name
        self.reason = reason


# ---------------------------------------------------------------------------------------------- pipeline side


def decisions(session: Session, addresses: Iterable[str]) -> dict[str, tuple[str, int | None]]:
    """address -> (status, company id) for addresses already in the queue."""
    found: dict[str, tuple[str, int | None]] = {}
    for part in chunks(sorted(set(addresses)), 500):
        rows = session.execute(select(ReviewUnknown.address, ReviewUnknown.status, ReviewUnknown.company_id)
                               .where(ReviewUnknown.address.in_(part)))
        for address, status, company_id in rows:
            found[address] = (status, company_id)
    return found


def blocked_patterns(session: Session) -> frozenset[str]:
    """Addresses and ``@domains`` blocklisted from the review queue (a short list: read once per batch)."""
    return frozenset(session.scalars(select(BlockedAddress.pattern)))


def is_blocked(patterns: frozenset[str], address: str) -> bool:
    if not patterns:
        return False
    if address in patterns:
        return True
    domain = address.rpartition("@")[2]
    while domain:
        if f"@{domain}" in patterns:
            return True
        domain = domain.partition(".")[2]
    return False


def record_sightings(session: Session, seen: dict[str, Sightings]) -> None:
    """Add one batch's counts to the queue: new addresses are inserted, known ones get counts and dates moved."""
    if not seen:
        return
    rows = [
        {"address": address, "name": s.name[:256], "domain": registrable_domain(address.rpartition("@")[2]) or "",
         "kind": "role" if address_kind(address) == "role" else "person", "count": s.count,
         "sent_count": s.sent_count, "first_seen": s.first_seen, "last_seen": s.last_seen,
         "last_interaction_id": s.last_interaction_id, "status": "pending", "reason": s.reason[:128]}
        for address, s in sorted(seen.items())
    ]
    stmt = dialect_insert(session, ReviewUnknown)
    new = stmt.excluded
    later = new.last_seen >= ReviewUnknown.last_seen
    stmt = stmt.on_conflict_do_update(index_elements=["address"], set_={
        "count": ReviewUnknown.count + new.count,
        "sent_count": ReviewUnknown.sent_count + new.sent_count,
        "first_seen": case((new.first_seen < ReviewUnknown.first_seen, new.first_seen), else_=ReviewUnknown.first_seen),
        "last_seen": case((later, new.last_seen), else_=ReviewUnknown.last_seen),
        "last_interaction_id": case((later, new.last_interaction_id), else_=ReviewUnknown.last_interaction_id),
        "name": case((later & (new.name != ""), new.name), else_=ReviewUnknown.name),
        "reason": new.reason,
    })
    for part in chunks(rows, 500):
        session.execute(stmt, list(part))


def mark_created(session: Session, created: dict[str, tuple[int | None, int | None]], now: datetime) -> None:
    """The policy created a contact (or a role address's company) for addresses that may be waiting in the queue."""
    for address, (contact_id, company_id) in created.items():
        session.execute(update(ReviewUnknown).where(ReviewUnknown.address == address,
                                                    ReviewUnknown.status == "pending")
                        .values(status="created", contact_id=contact_id, company_id=company_id, decided_at=now))


# ---------------------------------------------------------------------------------------------- reading


def suggested_companies(session: Session, domains: Iterable[str]) -> dict[str, dict]:
    """domain -> {id, name} of the company owning it (the one a person would probably attach the address to)."""
    out: dict[str, dict] = {}
    for part in chunks(sorted({d for d in domains if d}), 500):
        rows = session.execute(select(CompanyDomain.domain, Company.id, Company.name)
                               .join(Company, Company.id == CompanyDomain.company_id)
                               .where(CompanyDomain.domain.in_(part)))
        for domain, company_id, name in rows:
            out[domain] = {"id": company_id, "name": name}
    return out


def list_unknown(session: Session, *, limit: int = 100, search: str | None = None,
                 statuses: tuple[str, ...] = ("pending",)) -> list[dict]:
    """Addresses waiting for a decision, most seen first (then most recent); those that became contacts drop out."""
    has_contact = select(ContactAddress.id).where(ContactAddress.address == ReviewUnknown.address).exists()
    stmt = select(ReviewUnknown).where(ReviewUnknown.status.in_(statuses), ~has_contact)
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(or_(ReviewUnknown.address.like(like), func.lower(ReviewUnknown.name).like(like)))
    rows = list(session.scalars(stmt.order_by(ReviewUnknown.count.desc(), ReviewUnknown.last_seen.desc(),
                                              ReviewUnknown.id).limit(limit)))
    companies = suggested_companies(session, (r.domain for r in rows))
    return [
        {"address": r.address, "name": r.name, "count": r.count, "sent": r.sent_count,
         "first_seen": r.first_seen.isoformat(), "last_seen": r.last_seen.isoformat(), "domain": r.domain,
         "kind": r.kind, "status": r.status, "why": r.reason, "last_interaction_id": r.last_interaction_id,
         "suggested_company": companies.get(r.domain)}
        for r in rows
    ]


def why_unlinked(session: Session, addresses: Iterable[str]) -> dict[str, str]:
    """For `explain`: why external addresses without any link have none (queue state, blocklist, machine)."""
    addresses = set(addresses)
    out: dict[str, str] = {}
    patterns = blocked_patterns(session)
    known = {r.address: r for part in chunks(sorted(addresses), 500)
             for r in session.scalars(select(ReviewUnknown).where(ReviewUnknown.address.in_(part)))}
    for address in addresses:
        row = known.get(address)
        if is_blocked(patterns, address) or (row is not None and row.status == "blocklisted"):
            out[address] = "blocklisted in review: never linked nor created"
        elif address_kind(address) == "automated":
            out[address] = "an automated address (no-reply, notifications…): never made a contact"
        elif row is not None and row.status == "ignored":
            out[address] = "ignored in review: no contact will be created for it"
        elif row is not None:
            out[address] = (f"unknown, waiting in the review queue (seen on {row.count} interaction(s), last "
                            f"{row.last_seen.date().isoformat()}; not created: {row.reason or 'account policy'})")
    return out


# ---------------------------------------------------------------------------------------------- decisions


def _address(raw: str) -> str:
    address = normalize_address(raw)
    if address is None:
        raise UserError(f"{raw!r} is not an email address")
    return address


def _row(session: Session, address: str) -> ReviewUnknown:
    """The queue row of an address; one is made from its interactions if it was never queued (seen before the
    queue existed, or created and later removed)."""
    row = session.scalar(select(ReviewUnknown).where(ReviewUnknown.address == address))
    if row is not None:
        return row
    count, name, first, last = session.execute(
        select(func.count(func.distinct(Participant.interaction_id)), func.max(Participant.name),
               func.min(Interaction.occurred_at), func.max(Interaction.occurred_at))
        .join(Interaction, Interaction.id == Participant.interaction_id).where(Participant.address == address)
    ).one()
    if not count:
        raise UserError(f"{address} is not in the review queue and appears on no interaction")
    row = ReviewUnknown(address=address, name=name or "", domain=registrable_domain(address.rpartition("@")[2]) or "",
                        kind="role" if address_kind(address) == "role" else "person", count=count, sent_count=0,
                        first_seen=first, last_seen=last, status="pending", reason="")
    session.add(row)
    session.flush()
    return row


def _surviving_company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise UserError(f"no company with id {company_id}")
    while company.merged_into_id is not None:
        company = session.get(Company, company.merged_into_id)
    return company


def _existing_contact(session: Session, address: str) -> int | None:
    return session.scalar(select(ContactAddress.contact_id).where(ContactAddress.address == address))


def company_for_domain(session: Session, domain: str | None, now: datetime, *, create: bool,
                       source: str) -> tuple[int | None, bool]:
    """(company id owning ``domain`` — created when asked and missing — , created?)."""
    if not domain:
        return None, False
    owner = session.scalar(select(CompanyDomain.company_id).where(CompanyDomain.domain == domain))
    if owner is not None:
        return _surviving_company(session, owner).id, False
    if not create:
        return None, False
    company = Company(name=domain, source=source, created_at=now, updated_at=now, details={})
    session.add(company)
    session.flush()
    session.add(CompanyDomain(company_id=company.id, domain=domain))
    session.flush()
    return company.id, True


def accept(session: Session, raw: str, now: datetime, *, company_domain, name: str | None = None,
           company_id: int | None = None) -> dict:
    """Make the address a contact (its company: the one given, else the domain's, else one made from the domain)."""
    address = _address(raw)
    existing = _existing_contact(session, address)
    if existing is not None:
        raise UserError(f"{address} is already the address of contact #{existing}")
    row = _row(session, address)
    display = clean_display_name(name) or row.name
    first, last = split_person_name(display)
    domain = company_domain(address)
    created_company = False
    if company_id is not None:
        company_id = _surviving_company(session, company_id).id
    else:  # free mail has no company domain: no company then
        company_id, created_company = company_for_domain(session, domain, now, create=True, source="review")
    contact = Contact(display_name=display, first_name=first, last_name=last, company_id=company_id, source="review",
                      created_at=now, updated_at=now, tags=[])
    session.add(contact)
    session.flush()
    session.add(ContactAddress(contact_id=contact.id, address=address, is_primary=True))
    session.flush()
    relinked = relink_participants(session, contact_ids=[contact.id], domains=[domain] if created_company else [])
    _decide(session, row, "accepted", now, contact_id=contact.id, company_id=company_id)
    return {"address": address, "status": "accepted", "contact_id": contact.id, "company_id": company_id,
            "company_created": created_company, "relinked": relinked}


def attach(session: Session, raw: str, company_id: int, now: datetime) -> dict:
    """Link the address to a company without making it a person; its past and future interactions follow."""
    address = _address(raw)
    row = _row(session, address)
    company = _surviving_company(session, company_id)
    result = session.execute(
        update(Participant)
        .where(Participant.address == address, Participant.is_internal.is_(False),
               or_(Participant.company_id.is_(None), Participant.company_reason.in_(("domain", "reply-inherited"))))
        .values(company_id=company.id, company_reason="manual")
    )
    _decide(session, row, "attached", now, company_id=company.id)
    return {"address": address, "status": "attached", "company_id": company.id, "company": company.name,
            "relinked": result.rowcount or 0}


def ignore(session: Session, raw: str, now: datetime) -> dict:
    address = _address(raw)
    _decide(session, _row(session, address), "ignored", now)
    return {"address": address, "status": "ignored"}


def blocklist(session: Session, raw: str, now: datetime) -> dict:
    """Blocklist an address (or ``@domain``): its mail is no longer logged and it never becomes a contact."""
    text = raw.strip().lower()
    if text.startswith("@"):
        host = host_of(text[1:])
        if host is None:
            raise UserError(f"{raw!r} is not a domain (write it as @example.fr)")
        pattern = f"@{host}"
        affected = session.execute(update(ReviewUnknown).where(
            or_(ReviewUnknown.address.like(f"%{pattern}"), ReviewUnknown.address.like(f"%.{host}")))
            .values(status="blocklisted", decided_at=now)).rowcount or 0
    else:
        pattern = _address(raw)
        _decide(session, _row(session, pattern), "blocklisted", now)
        affected = 1
    stmt = dialect_insert(session, BlockedAddress).on_conflict_do_nothing(index_elements=["pattern"])
    session.execute(stmt, [{"pattern": pattern, "created_at": now, "source": "review"}])
    return {"address": pattern, "status": "blocklisted", "queue_rows": affected}


def _decide(session: Session, row: ReviewUnknown, status: str, now: datetime, *, contact_id: int | None = None,
            company_id: int | None = None) -> None:
    row.status, row.decided_at = status, now
    if contact_id is not None:
        row.contact_id = contact_id
    if company_id is not None:
        row.company_id = company_id
    session.flush()
