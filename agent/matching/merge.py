"""Merging two contacts or two companies, and undoing it exactly, whatever arrived in between.

A merge keeps one record (``keep_id``) and folds the other into it: every address / domain, phone, participant
link and every row of any table pointing at the other record (timers, tasks, deals, contacts of a company…) moves
to the kept one; the other record stays, marked ``merged_into_id``, so old ids still resolve. Values follow the
survivorship rules of ``survivorship.py``. Before anything changes, ``merge_log.snapshot`` records both rows in
full, their addresses / domains and phones, the participant links of both, and the ids of every moved row.

``unmerge`` puts all of that back: both rows as they were, each address, domain and phone with its owner and
primary flag, each participant link and moved row (the ones still pointing at the kept record: what a person
re-linked since is theirs). Participants that arrived after the merge follow their address: mail from the other
record's addresses goes back to it. Merges undo last-first: a later merge touching either record must be undone
before. An undone pair is remembered as not-duplicate, so the next scan does not merge it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.matching import survivorship
from agent.matching.domains import registrable_domain
from agent.store.base import Base, UTCDateTime
from agent.store.models import Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.models_matching import ContactPhone, DuplicateCandidate, MergeLog, NotDuplicate
from agent.store.sql import chunks, dialect_insert

KINDS = ("contact", "company")
CONTACT, ADDRESS, PHONE = Contact.__table__, ContactAddress.__table__, ContactPhone.__table__
COMPANY, DOMAIN, PARTICIPANT = Company.__table__, CompanyDomain.__table__, Participant.__table__
# Links this module moves itself (with their reasons); every other foreign key to contact/company moves generically.
_HANDLED = {("contact_address", "contact_id"), ("contact_phone", "contact_id"), ("participant", "contact_id"),
            ("participant", "company_id"), ("company_domain", "company_id"), ("contact", "merged_into_id"),
            ("company", "merged_into_id")}
_BOOKKEEPING = {"review_unknown", "merge_log", "duplicate_candidate", "not_duplicate"}
_VIA_CONTACT = ("exact", "alias")  # participant reasons that say "linked through the contact's address"
_AUTOMATIC = ("exact", "alias", "created", "reply-inherited", None)  # links no person chose
_LINK_COLUMNS = ("interaction_id", "address", "role", "contact_id", "contact_reason", "company_id", "company_reason")


# ---------------------------------------------------------------------------------------------- rows as JSON


def _encode(table: Table, row: Any) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = row[column.name]
        out[column.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _decode(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = data.get(column.name)
        if isinstance(column.type, UTCDateTime) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        out[column.name] = value
    return out


def _row(session: Session, table: Table, row_id: int, kind: str) -> Any:
    row = session.execute(select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        raise UserError(f"no {kind} with id {row_id}")
    return row


def _references(target: str) -> list[tuple[Table, Any]]:
    """(table, column) of every foreign key to ``target`` that a merge moves generically."""
    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in _BOOKKEEPING or len(table.primary_key.columns) != 1:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == target and (table.name, fk.parent.name) not in _HANDLED:
                found.append((table, fk.parent))
    return found


def _move_references(session: Session, target: str, old: int, new: int) -> dict[str, list]:
    moved: dict[str, list] = {}
    for table, column in _references(target):
        pk = next(iter(table.primary_key.columns))
        ids = list(session.scalars(select(pk).where(column == old)))
        if ids:
            moved[f"{table.name}.{column.name}"] = ids
            for part in chunks(ids, 500):
                session.execute(update(table).where(pk.in_(part)).values({column.name: new}))
    return moved


def _restore_references(session: Session, target: str, moved: dict[str, list], keep: int, other: int) -> None:
    by_name = {f"{t.name}.{c.name}": (t, c) for t, c in _references(target)}
    for name, ids in moved.items():
        if name not in by_name:
            continue
        table, column = by_name[name]
        pk = next(iter(table.primary_key.columns))
        for part in chunks(ids, 500):
            session.execute(update(table).where(pk.in_(part), column == keep).values({column.name: other}))


def _links(session: Session, column: Any, ids: Sequence[int], *, with_id: bool = False) -> list[list]:
    names = ("id", *_LINK_COLUMNS) if with_id else _LINK_COLUMNS
    rows = session.execute(select(*(PARTICIPANT.c[name] for name in names)).where(column.in_(ids)))
    return [list(row) for row in rows]


def _set_links(session: Session, rows: Iterable[dict]) -> None:
    rows = list(rows)
    if not rows:
        return
    stmt = (update(PARTICIPANT)
            .where(PARTICIPANT.c.interaction_id == bindparam("k_interaction"),
                   PARTICIPANT.c.address == bindparam("k_address"), PARTICIPANT.c.role == bindparam("k_role"))
            .values(contact_id=bindparam("v_contact_id"), contact_reason=bindparam("v_contact_reason"),
                    company_id=bindparam("v_company_id"), company_reason=bindparam("v_company_reason")))
    for part in chunks(rows, 500):
        session.execute(stmt, list(part))


def _link_row(key: Sequence, contact_id, contact_reason, company_id, company_reason) -> dict:
    return {"k_interaction": key[0], "k_address": key[1], "k_role": key[2], "v_contact_id": contact_id,
            "v_contact_reason": contact_reason, "v_company_id": company_id, "v_company_reason": company_reason}


# ---------------------------------------------------------------------------------------------- merge


def merge(session: Session, kind: str, keep_id: int, other_id: int, now: datetime, *, auto: bool = False,
          score: float | None = None, reasons: Sequence[str] = (), primary: str = "older") -> MergeLog:
    """Fold ``other_id`` into ``keep_id`` (both active records of ``kind``); returns the merge log row."""
    if kind not in KINDS:
        raise UserError(f"kind must be contact or company, not {kind!r}")
    if keep_id == other_id:
        raise UserError(f"cannot merge {kind} #{keep_id} with itself")
    table = CONTACT if kind == "contact" else COMPANY
    keep, other = _row(session, table, keep_id, kind), _row(session, table, other_id, kind)
    for row in (keep, other):
        if row["merged_into_id"] is not None:
            raise UserError(f"{kind} #{row['id']} was already merged into #{row['merged_into_id']}")
    if kind == "contact":
        snapshot = _merge_contacts(session, keep, other, now, primary)
    else:
        snapshot = _merge_companies(session, keep, other, now)
    log = MergeLog(kind=kind, keep_id=keep_id, other_id=other_id, at=now, auto=auto, score=score,
                   reasons=list(reasons), snapshot=snapshot)
    session.add(log)
    session.flush()
    a, b = sorted((keep_id, other_id))
    session.execute(update(DuplicateCandidate).where(DuplicateCandidate.kind == kind, DuplicateCandidate.a_id == a,
                                                     DuplicateCandidate.b_id == b)
                    .values(status="merged", decided_at=now, merge_id=log.id))
    return log


def _merge_contacts(session: Session, keep: Any, other: Any, now: datetime, primary: str) -> dict:
    ids = [keep["id"], other["id"]]
    addresses = [dict(r) for r in session.execute(select(ADDRESS).where(ADDRESS.c.contact_id.in_(ids))
                                                  .order_by(ADDRESS.c.id)).mappings()]
    phones = [dict(r) for r in session.execute(select(PHONE).where(PHONE.c.contact_id.in_(ids))
                                               .order_by(PHONE.c.id)).mappings()]
    links = _links(session, PARTICIPANT.c.contact_id, ids)
    snapshot: dict[str, Any] = {
        "version": 1, "keep": _encode(CONTACT, keep), "other": _encode(CONTACT, other),
        "addresses": [[a["id"], a["contact_id"], a["address"], a["is_primary"]] for a in addresses],
        "phones": [[p["id"], p["contact_id"], p["phone"], p["source"]] for p in phones],
        "participants": links,
    }
    values = survivorship.merged_contact(keep, other, now)
    main = survivorship.primary_address(keep, other, addresses, primary)
    session.execute(update(ADDRESS).where(ADDRESS.c.contact_id == other["id"]).values(contact_id=keep["id"]))
    for a in addresses:
        if a["is_primary"] != (a["address"] == main):
            session.execute(update(ADDRESS).where(ADDRESS.c.id == a["id"]).values(is_primary=a["address"] == main))
    snapshot["added_phones"] = _merge_phones(session, keep, other, phones, values["phone"])
    session.execute(update(CONTACT).where(CONTACT.c.id == keep["id"]).values(values))
    session.execute(update(CONTACT).where(CONTACT.c.id == other["id"]).values(merged_into_id=keep["id"]))
    relinked = []
    for key in links:
        contact_reason, company_id, company_reason = key[4], key[5], key[6]
        if contact_reason in _VIA_CONTACT:
            contact_reason = "exact" if key[1] == main else "alias"
        if company_reason in _VIA_CONTACT and values["company_id"] is not None:
            company_id, company_reason = values["company_id"], contact_reason
        relinked.append(_link_row(key, keep["id"], contact_reason, company_id, company_reason))
    _set_links(session, relinked)
    snapshot["references"] = _move_references(session, "contact", other["id"], keep["id"])
    return snapshot


def _merge_phones(session: Session, keep: Any, other: Any, phones: list[dict], main: str) -> list[int]:
    """Every number stays: the other's extra phones move over, a main number that lost becomes an extra one."""
    kept_rows = {p["phone"] for p in phones if p["contact_id"] == keep["id"]}
    for p in phones:
        if p["contact_id"] != other["id"]:
            continue
        if p["phone"] in kept_rows or p["phone"] == main:
            session.execute(PHONE.delete().where(PHONE.c.id == p["id"]))
        else:
            session.execute(update(PHONE).where(PHONE.c.id == p["id"]).values(contact_id=keep["id"]))
            kept_rows.add(p["phone"])
    added = []
    for phone in survivorship.extra_phones(main, [keep["phone"], other["phone"]]):
        if phone not in kept_rows:
            result = session.execute(insert(PHONE).values(contact_id=keep["id"], phone=phone, source="merge"))
            added.append(result.inserted_primary_key[0])
            kept_rows.add(phone)
    return added


def _merge_companies(session: Session, keep: Any, other: Any, now: datetime) -> dict:
    ids = [keep["id"], other["id"]]
    domains = session.execute(select(DOMAIN).where(DOMAIN.c.company_id.in_(ids)).order_by(DOMAIN.c.id)).mappings()
    snapshot: dict[str, Any] = {
        "version": 1, "keep": _encode(COMPANY, keep), "other": _encode(COMPANY, other),
        "domains": [[d["id"], d["company_id"], d["domain"]] for d in domains],
        "participants": _links(session, PARTICIPANT.c.company_id, [other["id"]]),
        # participants written later are the ones that may follow their domain back to the other company
        "last_participant_id": session.scalar(select(func.max(PARTICIPANT.c.id))) or 0,
    }
    session.execute(update(DOMAIN).where(DOMAIN.c.company_id == other["id"]).values(company_id=keep["id"]))
    session.execute(update(PARTICIPANT).where(PARTICIPANT.c.company_id == other["id"]).values(company_id=keep["id"]))
    session.execute(update(COMPANY).where(COMPANY.c.id == keep["id"])
                    .values(survivorship.merged_company(keep, other, now)))
    session.execute(update(COMPANY).where(COMPANY.c.id == other["id"]).values(merged_into_id=keep["id"]))
    snapshot["references"] = _move_references(session, "company", other["id"], keep["id"])
    return snapshot


# ---------------------------------------------------------------------------------------------- unmerge


def unmerge(session: Session, merge_id: int, now: datetime) -> dict:
    """Undo one merge exactly (see the module docstring); returns what was restored."""
    log = session.get(MergeLog, merge_id)
    if log is None:
        raise UserError(f"no merge with id {merge_id} (see `crm-agent review merges`)")
    if log.undone_at is not None:
        raise UserError(f"merge #{merge_id} was already undone on {log.undone_at:%Y-%m-%d %H:%M}")
    both = (log.keep_id, log.other_id)
    later = session.scalar(
        select(MergeLog.id).where(MergeLog.kind == log.kind, MergeLog.id > log.id, MergeLog.undone_at.is_(None),
                                  (MergeLog.keep_id.in_(both)) | (MergeLog.other_id.in_(both)))
        .order_by(MergeLog.id.desc()).limit(1))
    if later is not None:
        raise UserError(f"merge #{later} changed these records afterwards: undo it first (crm-agent unmerge {later})")
    snapshot = log.snapshot
    if log.kind == "contact":
        followed = _unmerge_contacts(session, snapshot, log)
    else:
        followed = _unmerge_companies(session, snapshot, log)
    log.undone_at = now
    a, b = sorted(both)
    stmt = dialect_insert(session, NotDuplicate).on_conflict_do_nothing(index_elements=["kind", "a_id", "b_id"])
    session.execute(stmt, [{"kind": log.kind, "a_id": a, "b_id": b, "decided_at": now, "source": "unmerge"}])
    session.execute(update(DuplicateCandidate).where(DuplicateCandidate.kind == log.kind, DuplicateCandidate.a_id == a,
                                                     DuplicateCandidate.b_id == b)
                    .values(status="not_duplicate", decided_at=now))
    session.flush()
    return {"merge_id": log.id, "kind": log.kind, "restored": [log.keep_id, log.other_id],
            "new_links_returned": followed, "remembered_not_duplicate": True}


def _restore_row(session: Session, table: Table, data: dict) -> None:
    values = _decode(table, data)
    row_id = values.pop("id")
    session.execute(update(table).where(table.c.id == row_id).values(values))


def _unmerge_contacts(session: Session, snapshot: dict, log: MergeLog) -> int:
    keep, other = log.keep_id, log.other_id
    _restore_row(session, CONTACT, snapshot["keep"])
    _restore_row(session, CONTACT, snapshot["other"])
    owner: dict[str, tuple[int, bool]] = {}
    for address_id, contact_id, address, is_primary in snapshot["addresses"]:
        owner[address] = (contact_id, is_primary)
        found = session.execute(update(ADDRESS).where(ADDRESS.c.id == address_id)
                                .values(contact_id=contact_id, address=address, is_primary=is_primary)).rowcount
        taken = session.scalar(select(ADDRESS.c.id).where(ADDRESS.c.address == address))
        if not found and taken is None:  # deleted since the merge: it comes back
            session.execute(insert(ADDRESS).values(id=address_id, contact_id=contact_id, address=address,
                                                   is_primary=is_primary))
    if any(is_primary for _, contact_id, _, is_primary in snapshot["addresses"] if contact_id == keep):
        session.execute(update(ADDRESS).where(ADDRESS.c.contact_id == keep,
                                              ADDRESS.c.address.not_in(list(owner) or [""]))
                        .values(is_primary=False))
    for part in chunks(snapshot.get("added_phones", []), 500):
        session.execute(PHONE.delete().where(PHONE.c.id.in_(part)))
    for phone_id, contact_id, phone, source in snapshot["phones"]:
        found = session.execute(update(PHONE).where(PHONE.c.id == phone_id)
                                .values(contact_id=contact_id, phone=phone, source=source)).rowcount
        if not found:
            session.execute(insert(PHONE).values(id=phone_id, contact_id=contact_id, phone=phone, source=source))
    before = {tuple(row[:3]): row for row in snapshot["participants"]}
    companies = {keep: snapshot["keep"]["company_id"], other: snapshot["other"]["company_id"]}
    restored, followed = [], 0
    for key in _links(session, PARTICIPANT.c.contact_id, [keep]):
        old = before.get(tuple(key[:3]))
        if old is not None:
            restored.append(_link_row(old, *old[3:]))
            continue
        if key[4] not in _AUTOMATIC:  # linked by hand to the kept record after the merge: a person's choice
            continue
        # Arrived after the merge: it follows its address, with the reasons its owner gives it.
        contact_id, is_primary = owner.get(key[1], (keep, False))
        followed += contact_id == other
        reason = "exact" if is_primary else "alias"
        company_id, company_reason = key[5], key[6]
        if company_reason in _VIA_CONTACT or company_reason is None:
            company_id = companies[contact_id]
            company_reason = reason if company_id is not None else None
        restored.append(_link_row(key, contact_id, reason, company_id, company_reason))
    _set_links(session, restored)
    _restore_references(session, "contact", snapshot["references"], keep, other)
    return followed


def _unmerge_companies(session: Session, snapshot: dict, log: MergeLog) -> int:
    keep, other = log.keep_id, log.other_id
    _restore_row(session, COMPANY, snapshot["keep"])
    _restore_row(session, COMPANY, snapshot["other"])
    other_domains = set()
    for domain_id, company_id, domain in snapshot["domains"]:
        if company_id == other:
            other_domains.add(domain)
        found = session.execute(update(DOMAIN).where(DOMAIN.c.id == domain_id)
                                .values(company_id=company_id, domain=domain)).rowcount
        if not found and session.scalar(select(DOMAIN.c.id).where(DOMAIN.c.domain == domain)) is None:
            session.execute(insert(DOMAIN).values(id=domain_id, company_id=company_id, domain=domain))
    _restore_references(session, "company", snapshot["references"], keep, other)
    _return_new_contacts(session, log, other_domains)
    before = {tuple(row[:3]) for row in snapshot["participants"]}
    contacts_of_other = set(session.scalars(select(CONTACT.c.id).where(CONTACT.c.company_id == other)))
    restored, followed = [], 0
    last = snapshot.get("last_participant_id", 0)
    for participant_id, *key in _links(session, PARTICIPANT.c.company_id, [keep], with_id=True):
        if tuple(key[:3]) in before:
            restored.append(_link_row(key, key[3], key[4], other, key[6]))
        elif participant_id > last and (
                (key[6] == "domain" and registrable_domain(key[1].rpartition("@")[2]) in other_domains)
                or (key[6] in _VIA_CONTACT and key[3] in contacts_of_other)):
            restored.append(_link_row(key, key[3], key[4], other, key[6]))
            followed += 1
    _set_links(session, restored)
    return followed


def _return_new_contacts(session: Session, log: MergeLog, other_domains: set[str]) -> None:
    """Contacts created after the merge on one of the other company's domains belong to it again."""
    if not other_domains:
        return
    rows = session.execute(select(CONTACT.c.id, ADDRESS.c.address).join(ADDRESS, ADDRESS.c.contact_id == CONTACT.c.id)
                           .where(CONTACT.c.company_id == log.keep_id, CONTACT.c.created_at > log.at))
    ids = {cid for cid, address in rows if registrable_domain(address.rpartition("@")[2]) in other_domains}
    for part in chunks(sorted(ids), 500):
        session.execute(update(CONTACT).where(CONTACT.c.id.in_(part)).values(company_id=log.other_id))
