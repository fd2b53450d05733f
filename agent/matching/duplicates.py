"""The de-duplication scan over the store: records from rows, the engine's pairs, auto-merges and the review queue.

``scan`` reads every active contact (or company), runs the engine (``agent.matching.dedupe``) with the configured
thresholds and the not-duplicate memory, merges pairs at or above ``merge_threshold`` (in clusters guarded
against chaining, each into its oldest record, one logged merge per record), and queues the pairs between the
two thresholds as candidates. A queued pair whose records changed so that it no longer scores is marked stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agent.errors import UserError
from agent.matching import merge as merging
from agent.matching.dedupe import (CompanyRecord, ContactRecord, ScoredPair, cluster, find_company_duplicates,
                                   find_contact_duplicates, split_by_threshold)
from agent.matching.names import person_name_parts
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from agent.store.models_matching import ContactPhone, DuplicateCandidate, NotDuplicate
from agent.store.sql import dialect_insert


def check_kind(kind: str) -> str:
    if kind not in merging.KINDS:
        raise UserError(f"kind must be contact or company, not {kind!r}")
    return kind


def contact_records(session: Session, region: str = "FR") -> list[ContactRecord]:
    """Every active contact as the engine sees it (names split again when a file put them in one column)."""
    emails: dict[int, list[str]] = defaultdict(list)
    for contact_id, address in session.execute(select(ContactAddress.contact_id, ContactAddress.address)
                                               .order_by(ContactAddress.is_primary.desc(), ContactAddress.id)):
        emails[contact_id].append(address)
    phones: dict[int, list[str]] = defaultdict(list)
    for contact_id, phone in session.execute(select(ContactPhone.contact_id, ContactPhone.phone)):
        phones[contact_id].append(phone)
    companies = {company_id: name for company_id, name in session.execute(select(Company.id, Company.name))}
    out = []
    for c in session.execute(select(Contact.id, Contact.first_name, Contact.last_name, Contact.display_name,
                                    Contact.phone, Contact.company_id).where(Contact.merged_into_id.is_(None))):
        first, last = person_name_parts(c.first_name, c.last_name, c.display_name)
        out.append(ContactRecord(c.id, first, last, tuple(emails.get(c.id, ())),
                                 tuple(p for p in (c.phone, *phones.get(c.id, ())) if p),
                                 companies.get(c.company_id, "") if c.company_id else "", country=region))
    return out


def company_records(session: Session, region: str = "FR") -> list[CompanyRecord]:
    domains: dict[int, list[str]] = defaultdict(list)
    for company_id, domain in session.execute(select(CompanyDomain.company_id, CompanyDomain.domain)):
        domains[company_id].append(domain)
    rows = session.scalars(select(Company).where(Company.merged_into_id.is_(None)))
    return [CompanyRecord(c.id, _comparable_name(c.name, domains.get(c.id, ())), tuple(domains.get(c.id, ())),
                          (c.phone,) if c.phone else (), c.street, c.postcode, c.city, c.siren, country=region)
            for c in rows]


def _comparable_name(name: str, domains: Iterable[str]) -> str:
    """A company named after its domain (made from mail) compares by its words: ``acme-btp.fr`` -> ``acme btp``."""
    if name in domains:
        return name.rsplit(".", 1)[0].replace("-", " ").replace(".", " ")
    return name


def remembered(session: Session, kind: str) -> frozenset[tuple[int, int]]:
    """Not-duplicate pairs of ``kind``, in both orders."""
    pairs = session.execute(select(NotDuplicate.a_id, NotDuplicate.b_id).where(NotDuplicate.kind == kind)).all()
    return frozenset({(a, b) for a, b in pairs} | {(b, a) for a, b in pairs})


def find_pairs(session: Session, kind: str, *, high: float, low: float, region: str = "FR") -> list[ScoredPair]:
    exclude = remembered(session, kind)
    if kind == "contact":
        return find_contact_duplicates(contact_records(session, region), high=high, low=low, exclude=exclude)
    return find_company_duplicates(company_records(session, region), high=high, low=low, exclude=exclude)


def _age(session: Session, kind: str, ids: Iterable[int]) -> dict[int, tuple[datetime, int]]:
    model = Contact if kind == "contact" else Company
    rows = session.execute(select(model.id, model.created_at).where(model.id.in_(list(ids))))
    return {row_id: (created, row_id) for row_id, created in rows}


def auto_merge(session: Session, kind: str, pairs: list[ScoredPair], high: float, now: datetime) -> list[int]:
    """Merge every cluster of pairs at or above ``high`` into its oldest record; returns the merge ids."""
    if not pairs:
        return []
    by_ids = {p.ids: p for p in pairs}
    merge_ids = []
    for group in cluster(pairs, high, exclude=remembered(session, kind)):
        ages = _age(session, kind, group)
        survivor = min(group, key=lambda record_id: ages[record_id])
        for other in sorted(group - {survivor}):
            pair = by_ids.get((min(survivor, other), max(survivor, other)))
            log = merging.merge(session, kind, survivor, other, now, auto=True,
                                score=pair.score if pair else None, reasons=pair.reasons if pair else ())
            merge_ids.append(log.id)
    return merge_ids


def queue_pairs(session: Session, kind: str, pairs: list[ScoredPair], now: datetime) -> int:
    """Store review pairs as pending candidates (decided pairs keep their decision); stale the ones gone."""
    current = {p.ids for p in pairs}
    if pairs:
        stmt = dialect_insert(session, DuplicateCandidate)
        stmt = stmt.on_conflict_do_update(
            index_elements=["kind", "a_id", "b_id"],
            set_={"score": stmt.excluded.score, "reasons": stmt.excluded.reasons, "found_at": stmt.excluded.found_at,
                  "status": _pending_unless_decided(stmt)},
        )
        session.execute(stmt, [{"kind": kind, "a_id": p.a_id, "b_id": p.b_id, "score": p.score,
                                "reasons": list(p.reasons), "status": "pending", "found_at": now} for p in pairs])
    stale = [row_id for row_id, a, b in session.execute(
        select(DuplicateCandidate.id, DuplicateCandidate.a_id, DuplicateCandidate.b_id)
        .where(DuplicateCandidate.kind == kind, DuplicateCandidate.status == "pending")) if (a, b) not in current]
    if stale:
        session.execute(update(DuplicateCandidate).where(DuplicateCandidate.id.in_(stale)).values(status="stale"))
    return len(pairs)


def _pending_unless_decided(stmt):
    from sqlalchemy import case

    decided = DuplicateCandidate.status.in_(("merged", "not_duplicate"))
    return case((decided, DuplicateCandidate.status), else_=stmt.excluded.status)


def scan(session: Session, kind: str, *, high: float, low: float, now: datetime, auto: bool = True,
         region: str = "FR") -> dict:
    """One scan of one kind: auto-merges (when ``auto``) and the review queue. Returns counts and merge ids."""
    check_kind(kind)
    pairs = find_pairs(session, kind, high=high, low=low, region=region)
    merged, review = split_by_threshold(pairs, high) if auto else ([], pairs)
    merge_ids = auto_merge(session, kind, merged, high, now)
    gone = _merged_away(session, kind)
    review = [p for p in review if p.a_id not in gone and p.b_id not in gone]
    queued = queue_pairs(session, kind, review, now)
    return {"kind": kind, "pairs": len(pairs), "merged": len(merge_ids), "merge_ids": merge_ids, "queued": queued}


def _merged_away(session: Session, kind: str) -> set[int]:
    model = Contact if kind == "contact" else Company
    return set(session.scalars(select(model.id).where(model.merged_into_id.is_not(None))))


def remember_not_duplicate(session: Session, kind: str, a_id: int, b_id: int, now: datetime) -> dict:
    check_kind(kind)
    if a_id == b_id:
        raise UserError(f"a {kind} is always a duplicate of itself (#{a_id})")
    model = Contact if kind == "contact" else Company
    for record_id in (a_id, b_id):
        if session.get(model, record_id) is None:
            raise UserError(f"no {kind} with id {record_id}")
    a, b = sorted((a_id, b_id))
    stmt = dialect_insert(session, NotDuplicate).on_conflict_do_nothing(index_elements=["kind", "a_id", "b_id"])
    session.execute(stmt, [{"kind": kind, "a_id": a, "b_id": b, "decided_at": now, "source": "review"}])
    session.execute(update(DuplicateCandidate).where(DuplicateCandidate.kind == kind, DuplicateCandidate.a_id == a,
                                                     DuplicateCandidate.b_id == b)
                    .values(status="not_duplicate", decided_at=now))
    return {"kind": kind, "a_id": a, "b_id": b, "status": "not_duplicate"}
