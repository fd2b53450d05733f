"""Read models of meetings: the agenda with local times, participants and their answers, as JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.matching.addresses import normalize_address
from agent.store.models import Account, Interaction, Participant, Sighting, SyncTarget
from agent.store.models_crm import Contact
from agent.views.timeline import find_contact


def _local(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value else None


def list_meetings(session: Session, zone: ZoneInfo, *, contact: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, limit: int = 200) -> list[dict]:
    """Meetings (one row per occurrence) in start order; a cancelled or removed one is shown and flagged."""
    stmt = select(Interaction).where(Interaction.kind == "meeting")
    if contact:
        found = find_contact(session, contact)
        if found is not None:
            who = select(Participant.interaction_id).where(Participant.contact_id == found.id)
        else:
            address = normalize_address(contact)
            if address is None:
                raise UserError(f"--contact: {contact!r} is neither a contact id nor an email address")
            who = select(Participant.interaction_id).where(Participant.address == address)
        stmt = stmt.where(Interaction.id.in_(who))
    if since is not None:
        stmt = stmt.where(Interaction.ends_at > since)
    if until is not None:
        stmt = stmt.where(Interaction.occurred_at < until)
    meetings = list(session.scalars(stmt.order_by(Interaction.occurred_at, Interaction.id).limit(limit)))
    ids = [m.id for m in meetings]
    people: dict[int, list[Participant]] = {}
    calendars: dict[int, set[str]] = {}
    names: dict[int, str] = {}
    if ids:
        stmt = select(Participant).where(Participant.interaction_id.in_(ids)).order_by(Participant.id)
        for p in session.scalars(stmt):
            people.setdefault(p.interaction_id, []).append(p)
        for interaction_id, account, target in session.execute(
            select(Sighting.interaction_id, Account.name, SyncTarget.display)
            .join(SyncTarget, SyncTarget.id == Sighting.target_id).join(Account, Account.id == SyncTarget.account_id)
            .where(Sighting.interaction_id.in_(ids))
        ):
            calendars.setdefault(interaction_id, set()).add(f"{account}/{target}")
        contact_ids = {p.contact_id for ps in people.values() for p in ps if p.contact_id}
        if contact_ids:
            stmt = select(Contact.id, Contact.display_name).where(Contact.id.in_(contact_ids))
            names = {contact_id: name for contact_id, name in session.execute(stmt)}
    return [_row(m, people.get(m.id, []), sorted(calendars.get(m.id, ())), names, zone) for m in meetings]


def _row(meeting: Interaction, people: list[Participant], seen_in: list[str], names: dict[int, str],
         zone: ZoneInfo) -> dict:
    details = meeting.details or {}
    organizer = next((p for p in people if p.role == "organizer"), None)
    return {
        "id": meeting.id,
        "identity_key": meeting.identity_key,
        "subject": meeting.subject,
        "start": _local(meeting.occurred_at, zone),
        "end": _local(meeting.ends_at, zone),
        "all_day": bool(details.get("all_day")),
        "location": details.get("location", ""),
        "status": meeting.status,
        "removed": meeting.removed_at is not None,
        "direction": meeting.direction,
        "recurring": "recurrence_id" in details,
        "organizer": _person(organizer, names) if organizer else None,
        "attendees": [_person(p, names, details.get("roles", {}).get(p.address, "")) for p in people
                      if p.role == "attendee"],
        "seen_in": seen_in,
    }


def _person(p: Participant, names: dict[int, str], role: str = "") -> dict:
    out = {"address": p.address, "name": p.name, "partstat": p.partstat, "internal": p.is_internal}
    if role:
        out["role"] = role  # REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR...
    if p.contact_id:
        out["contact"] = {"id": p.contact_id, "name": names.get(p.contact_id, ""), "reason": p.contact_reason}
    if p.company_id:
        out["company_id"] = p.company_id
    return out
