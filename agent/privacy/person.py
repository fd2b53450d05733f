"""One person's data: everything the store holds about an address (export), or all of it removed (erase).

What erase does, so the promise is exact:
- every contact owning the address goes, with all its addresses (the person's other addresses are erased too);
- an interaction the person sent or organised, or whose only external participants are this person, is deleted
  (its text is theirs); on other interactions only the person's participant row is removed;
- rule timers and tasks about the person, review-queue rows, merge snapshots, iTIP replies, events of deleted
  interactions and outbox mail to the person are deleted; deals keep their company but lose the contact link;
- skip records of deleted mail lose their subject;
- a digest of each address is kept (table ``erasure``) so future mail involving only them is skipped as
  ``erased``; the audit log records the erasure with counts and the digest, never the address.
Mail stays in the mailboxes themselves: crm-agent never writes to a mail server.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.matching.addresses import normalize_address
from agent.privacy.erasure import address_hash
from agent.store.base import Base
from agent.store.models import Interaction, Participant, SkippedItem
from agent.store.models_crm import Company, Contact, ContactAddress
from agent.store.models_privacy import AuditLog, Erasure
from agent.store.sql import chunks

_SENDER_ROLES = ("from", "organizer")


def _addresses_and_contacts(session: Session, raw: str) -> tuple[set[str], list[Contact]]:
    address = normalize_address(raw)
    if address is None:
        raise UserError(f"{raw!r} is not an email address")
    contact_ids = set(session.scalars(select(ContactAddress.contact_id).where(ContactAddress.address == address)))
    # records merged into (or from) these contacts are the same person
    frontier = set(contact_ids)
    while frontier:
        linked = set(session.scalars(select(Contact.id).where(or_(Contact.merged_into_id.in_(frontier), Contact.id.in_(
            select(Contact.merged_into_id).where(Contact.id.in_(frontier), Contact.merged_into_id.is_not(None)))))))
        frontier = linked - contact_ids
        contact_ids |= linked
    contacts = list(session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))) if contact_ids else []
    addresses = {address} | {a.address for c in contacts for a in c.addresses}
    return addresses, contacts


def _interactions_of(session: Session, addresses: set[str]) -> dict[int, set[str]]:
    """interaction id -> the roles the person has on it."""
    roles: dict[int, set[str]] = {}
    for part in chunks(sorted(addresses), 200):
        for interaction_id, role in session.execute(
            select(Participant.interaction_id, Participant.role).where(Participant.address.in_(part))
        ):
            roles.setdefault(interaction_id, set()).add(role)
    return roles


def export_person(session: Session, raw: str, zone: ZoneInfo, now: datetime) -> dict:
    """Everything stored about the address, as JSON-ready data (RGPD art. 15 and 20)."""
    addresses, contacts = _addresses_and_contacts(session, raw)
    roles = _interactions_of(session, addresses)
    companies = {c.id: c.name for c in session.scalars(select(Company).where(Company.id.in_({x.company_id for x in contacts if x.company_id})))}
    interactions = []
    for part in chunks(sorted(roles), 200):
        for i in session.scalars(select(Interaction).where(Interaction.id.in_(part)).order_by(Interaction.occurred_at)):
            others = session.execute(select(Participant.address, Participant.role).where(
                Participant.interaction_id == i.id, Participant.address.not_in(addresses))).all()
            interactions.append({
                "id": i.id, "kind": i.kind, "date": i.occurred_at.astimezone(zone).isoformat(), "direction": i.direction,
                "subject": i.subject, "snippet": i.snippet, "body": i.body, "status": i.status,
                "their_roles": sorted(roles[i.id]), "other_participants": [f"{r}: {a}" for a, r in others],
            })
    related = {}
    contact_ids = [c.id for c in contacts]
    for name in ("task", "timer", "deal", "review_unknown", "contact_phone"):
        table = Base.metadata.tables.get(name)
        conditions = _about(table, contact_ids, addresses) if table is not None else []
        if conditions:
            rows = session.execute(select(table).where(or_(*conditions))).mappings().all()
            related[name] = [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()} for row in rows]
    session.add(AuditLog(at=now, action="gdpr.export", subject=address_hash(min(addresses)),
                         details={"interactions": len(interactions), "contacts": len(contacts)}))
    return {
        "exported_at": now.isoformat(), "addresses": sorted(addresses),
        "contacts": [{
            "id": c.id, "name": c.display_name, "first_name": c.first_name, "last_name": c.last_name, "phone": c.phone,
            "title": c.title, "status": c.status, "tags": c.tags, "notes": c.notes, "source": c.source,
            "company": companies.get(c.company_id), "emails": sorted(a.address for a in c.addresses),
            "created_at": c.created_at.isoformat(),
        } for c in contacts],
        "interactions": interactions,
        "related": related,
    }


def erase_person(session: Session, raw: str, now: datetime) -> dict:
    """Remove the person from the store (see the module docstring for exactly what) and remember the erasure."""
    addresses, contacts = _addresses_and_contacts(session, raw)
    roles = _interactions_of(session, addresses)
    doomed, scrubbed = [], []
    for interaction_id, their_roles in roles.items():
        externals = set(session.scalars(select(Participant.address).where(
            Participant.interaction_id == interaction_id, Participant.is_internal.is_(False))))
        if their_roles & set(_SENDER_ROLES) or externals <= addresses:
            doomed.append(interaction_id)
        else:
            scrubbed.append(interaction_id)
    message_ids = [m for part in chunks(doomed, 500) for m in session.scalars(
        select(Interaction.message_id).where(Interaction.id.in_(part), Interaction.message_id.is_not(None)))]
    contact_ids = [c.id for c in contacts]
    counts = {"contacts": len(contacts), "interactions_deleted": len(doomed), "interactions_scrubbed": len(scrubbed)}
    _delete_related(session, contact_ids, addresses, doomed)
    for part in chunks(doomed, 500):
        session.execute(delete(Interaction).where(Interaction.id.in_(part)))
    for part in chunks(sorted(addresses), 200):
        session.execute(delete(Participant).where(Participant.address.in_(part)))
    for part in chunks(message_ids, 500):
        session.execute(update(SkippedItem).where(SkippedItem.message_id.in_(part)).values(subject="", message_id=None))
    if contact_ids:
        session.execute(update(Contact).where(Contact.merged_into_id.in_(contact_ids)).values(merged_into_id=None))
        session.execute(delete(ContactAddress).where(ContactAddress.contact_id.in_(contact_ids)))
        session.execute(delete(Contact).where(Contact.id.in_(contact_ids)))
    for address in addresses:
        digest = address_hash(address)
        if session.scalar(select(Erasure.id).where(Erasure.address_hash == digest)) is None:
            session.add(Erasure(address_hash=digest, erased_at=now))
    session.add(AuditLog(at=now, action="gdpr.erase", subject=address_hash(min(addresses)),
                         details={**counts, "addresses": len(addresses)}))
    return {"erased_at": now.isoformat(), "addresses": len(addresses), **counts}


def _about(table, contact_ids: list[int], addresses: set[str], interactions: list[int] = ()) -> list:
    """The conditions selecting a feature table's rows about the person (by contact, address or interaction)."""
    conditions = []
    if "contact_id" in table.c and contact_ids:
        conditions.append(table.c.contact_id.in_(contact_ids))
    if "address" in table.c:
        conditions.append(table.c.address.in_(addresses))
    if "interaction_id" in table.c and interactions:
        conditions.append(table.c.interaction_id.in_(list(interactions)))
    return conditions


def _delete_related(session: Session, contact_ids: list[int], addresses: set[str], interactions: list[int]) -> None:
    """Rows of feature tables about the person (each table is optional: features may not be installed)."""
    tables = Base.metadata.tables
    for name in ("timer", "task", "review_unknown", "contact_phone"):
        table = tables.get(name)
        conditions = _about(table, contact_ids, addresses, interactions) if table is not None else []
        if conditions:
            session.execute(delete(table).where(or_(*conditions)))
    if (deal := tables.get("deal")) is not None and contact_ids:
        session.execute(update(deal).where(deal.c.contact_id.in_(contact_ids)).values(contact_id=None))
    if (replies := tables.get("meeting_reply")) is not None:
        session.execute(delete(replies).where(replies.c.address.in_(addresses)))
    if (events := tables.get("agent_event")) is not None and interactions:
        for part in chunks(interactions, 500):
            session.execute(delete(events).where(events.c.interaction_id.in_(part)))
    if (merges := tables.get("merge_log")) is not None and contact_ids:
        session.execute(delete(merges).where(merges.c.kind == "contact", or_(
            merges.c.keep_id.in_(contact_ids), merges.c.other_id.in_(contact_ids))))
    if (outbox := tables.get("outbox")) is not None:
        for address in addresses:  # rule mail to the person or about them, sent or not
            session.execute(delete(outbox).where(cast(outbox.c.payload, Text).like(f"%{address}%")))
