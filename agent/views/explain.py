"""`explain`: why an item is stored, skipped or linked the way it is — for an id, a location or a Message-ID."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agent.matching.unknown_queue import why_unlinked
from agent.store.models import Account, Interaction, Participant, PendingRef, Sighting, SkippedItem, SyncTarget
from agent.store.models_crm import Company, Contact

_REASON_TEXT = {
    "exact": "the address is the contact's primary address",
    "alias": "the address is one of the contact's other addresses (or an alias form of one)",
    "domain": "the address's domain belongs to the company",
    "reply-inherited": "a reply in a thread already linked to this record",
    "manual": "linked by hand",
    "created": "the contact was created from this participant (account policy)",
}
# A company link's own words where they differ from a contact link's.
_COMPANY_REASON_TEXT = {
    **_REASON_TEXT,
    "created": "the company was created from this address's domain (account policy)",
    "reply-inherited": "a reply in a thread already linked to this company",
    "manual": "linked by hand (attached to the company in review)",
}

_IDENTITY_TEXT = {
    "mid": "Message-ID",
    "hash": "content hash (the message has no Message-ID)",
    "ical": "iCalendar UID",
}


def _identity_reason(interaction: Interaction) -> str:
    scheme = interaction.identity_key.split(":", 1)[0]
    text = _IDENTITY_TEXT.get(scheme, scheme)
    if interaction.details.get("message_id_conflict"):
        text += "; this Message-ID was already used by a different message (other sender or date), so this one is kept apart"
    return text


def _direction_reason(interaction: Interaction, participants: list[Participant]) -> str:
    if interaction.kind != "email":
        return ""
    if interaction.direction == "internal":
        return "every participant is internal (own domains / addresses)"
    if interaction.direction == "out":
        return "the sender is internal"
    return "the sender is external"


def explain(session: Session, ref: str, zone: ZoneInfo) -> dict:
    """A dict with ``found`` in {"interaction", "skipped", "pending", "nothing"} and the details of the answer."""
    ref = ref.strip()
    interaction = None
    if ref.isdigit():
        interaction = session.get(Interaction, int(ref))
    if interaction is None:
        sighting = session.scalar(select(Sighting).where(or_(Sighting.location == ref, Sighting.item_location == ref)).limit(1))
        if sighting is not None:
            interaction = session.get(Interaction, sighting.interaction_id)
    if interaction is None and not ref.isdigit():
        mid = ref.strip("<>").removeprefix("mid:")
        interaction = session.scalar(select(Interaction).where(Interaction.message_id == mid).order_by(Interaction.id).limit(1))
    if interaction is not None:
        return _explain_interaction(session, interaction, zone)
    skipped = session.scalar(select(SkippedItem).where(or_(SkippedItem.location == ref, SkippedItem.message_id == ref.strip("<>").removeprefix("mid:"))).limit(1))
    if skipped is not None:
        return {
            "found": "skipped", "location": skipped.location, "stage": skipped.stage, "reason": skipped.reason,
            "detail": skipped.detail, "subject": skipped.subject, "message_id": skipped.message_id,
            "skipped_at": skipped.skipped_at.isoformat(),
            "why": f"dropped by the {skipped.stage} stage: {skipped.reason}" + (f" ({skipped.detail})" if skipped.detail else ""),
        }
    pending = session.scalar(select(PendingRef).where(PendingRef.location == ref).limit(1))
    if pending is not None:
        return {"found": "pending", "location": ref, "why": "listed from the server, waiting to be imported by the next batch"}
    return {"found": "nothing", "ref": ref, "why": "no interaction, skipped item or pending item matches this id, location or Message-ID"}


def _explain_interaction(session: Session, interaction: Interaction, zone: ZoneInfo) -> dict:
    participants = list(session.scalars(select(Participant).where(Participant.interaction_id == interaction.id).order_by(Participant.id)))
    contact_ids = {p.contact_id for p in participants if p.contact_id}
    company_ids = {p.company_id for p in participants if p.company_id}
    contacts = {c.id: c.display_name for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))} if contact_ids else {}
    companies = {c.id: c.name for c in session.scalars(select(Company).where(Company.id.in_(company_ids)))} if company_ids else {}
    sightings = session.execute(
        select(Sighting.location, Account.name, SyncTarget.display, Sighting.seen_at)
        .join(SyncTarget, SyncTarget.id == Sighting.target_id).join(Account, Account.id == SyncTarget.account_id)
        .where(Sighting.interaction_id == interaction.id).order_by(Sighting.id)
    ).all()
    unlinked = why_unlinked(session, {p.address for p in participants if not p.is_internal and not p.contact_id})
    links = []
    for p in participants:
        entry = {"address": p.address, "name": p.name, "role": p.role, "internal": p.is_internal}
        if p.is_internal:
            entry["why"] = "internal address: not linked to customer records"
        if p.contact_id:
            entry["contact"] = {"id": p.contact_id, "name": contacts.get(p.contact_id, ""), "reason": p.contact_reason,
                                "why": _REASON_TEXT.get(p.contact_reason or "", p.contact_reason)}
        if p.company_id:
            entry["company"] = {"id": p.company_id, "name": companies.get(p.company_id, ""), "reason": p.company_reason,
                                "why": _COMPANY_REASON_TEXT.get(p.company_reason or "", p.company_reason)
                                if p.company_reason != p.contact_reason or not p.contact_id
                                else "the contact belongs to this company"}
        if not p.is_internal and not p.contact_id and p.address in unlinked:
            entry["why"] = unlinked[p.address]
        elif not p.is_internal and not p.contact_id and not p.company_id:
            entry["why"] = "no contact has this address and no company has its domain"
        if p.partstat:
            entry["partstat"] = p.partstat
        links.append(entry)
    return {
        "found": "interaction",
        "interaction": {
            "id": interaction.id, "kind": interaction.kind, "subject": interaction.subject,
            "date": interaction.occurred_at.astimezone(zone).isoformat(), "direction": interaction.direction,
            "status": interaction.status, "thread_key": interaction.thread_key, "identity_key": interaction.identity_key,
            "removed": interaction.removed_at is not None,
            "attachments": [str(a) for a in (interaction.details or {}).get("attachments", [])],
        },
        "identity": _identity_reason(interaction),
        "direction_reason": _direction_reason(interaction, participants),
        "sightings": [{"location": loc, "mailbox": f"{acc}/{tgt}", "seen_at": seen.isoformat()} for loc, acc, tgt, seen in sightings],
        "participants": links,
        "repairs": interaction.details.get("repairs", []),
        "rules": _rules(session, interaction.id, zone),
    }


def _rules(session: Session, interaction_id: int, zone: ZoneInfo) -> list[dict]:
    """Timers this interaction armed or cancelled, and whether rules ignored it as a reply."""
    from agent.rules.timers import rules_for_interaction

    return rules_for_interaction(session, interaction_id, zone)
