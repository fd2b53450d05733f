"""ReviewService: the review queues, merges and companies, as JSON-ready answers for the CLI and the web page.

Built by ``AgentService.feature("review")``. Every writing method runs in one unit of work and re-links stored
participants before it returns, so the timeline shows a decision at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from agent.errors import UserError
from agent.matching import duplicates as dup
from agent.matching import merge as merging
from agent.matching import unknown_queue
from agent.matching.company_view import company_page, company_summary, list_companies
from agent.store.models import Participant
from agent.store.models_crm import Company, CompanyDomain, Contact
from agent.store.models_matching import ContactPhone, DuplicateCandidate, MergeLog
from agent.views.timeline import contact_summary, find_company


class ReviewService:
    def __init__(self, app) -> None:
        self.app = app

    # ------------------------------------------------------------------ plumbing

    @property
    def _matching(self):
        return self.app.settings.matching

    def _now(self):
        return self.app.clock.now()

    def _company_domain(self):
        from agent.pipeline.account_sync import match_policy

        return match_policy(self.app.settings).company_domain

    @staticmethod
    def _company_id(session, ref: int | str | None) -> int | None:
        if ref is None or ref == "":
            return None
        company = find_company(session, str(ref).strip())
        if company is None:
            raise UserError(f"no company matches {ref!r} (an id, one of its domains, or its name)")
        return company.id

    # ------------------------------------------------------------------ unknown addresses

    def unknown(self, limit: int = 100, search: str | None = None) -> list[dict]:
        """Unknown external addresses waiting for a decision: count, first and last seen, suggested company."""
        with self.app.store.read() as session:
            return unknown_queue.list_unknown(session, limit=limit, search=search)

    def accept_unknown(self, address: str, *, name: str | None = None, company_id: int | str | None = None) -> dict:
        """Make the address a contact; its past interactions are linked at once."""
        with self.app.store.unit_of_work() as session:
            return unknown_queue.accept(session, address, self._now(), company_domain=self._company_domain(),
                                        name=name, company_id=self._company_id(session, company_id))

    def attach_unknown(self, address: str, company_id: int | str) -> dict:
        """Link the address to a company (not a person): past and future interactions follow."""
        with self.app.store.unit_of_work() as session:
            return unknown_queue.attach(session, address, self._company_id(session, company_id), self._now())

    def ignore_unknown(self, address: str) -> dict:
        with self.app.store.unit_of_work() as session:
            return unknown_queue.ignore(session, address, self._now())

    def blocklist_unknown(self, address: str) -> dict:
        """Never log mail from it nor create it again (an address, or ``@domain``)."""
        with self.app.store.unit_of_work() as session:
            return unknown_queue.blocklist(session, address, self._now())

    # ------------------------------------------------------------------ duplicates and merges

    def find_duplicates(self, auto_merge: bool = True) -> dict:
        """Scan companies then contacts: merge pairs above merge_threshold, queue those above review_threshold."""
        high, low = self._matching.merge_threshold, self._matching.review_threshold
        region = self.app.settings.country
        with self.app.store.unit_of_work() as session:
            result = {kind: dup.scan(session, kind, high=high, low=low, now=self._now(), auto=auto_merge,
                                     region=region)
                      for kind in ("company", "contact")}
        return {"merge_threshold": high, "review_threshold": low, **result}

    def duplicates(self, kind: str = "contact", limit: int = 100) -> list[dict]:
        """Pairs waiting for review, best first, with both records side by side."""
        dup.check_kind(kind)
        model = Contact if kind == "contact" else Company
        with self.app.store.read() as session:
            rows = list(session.scalars(select(DuplicateCandidate).where(
                DuplicateCandidate.kind == kind, DuplicateCandidate.status == "pending")
                .order_by(DuplicateCandidate.score.desc(), DuplicateCandidate.id)))
            ids = {i for r in rows for i in (r.a_id, r.b_id)}
            active = set(session.scalars(select(model.id).where(model.id.in_(ids), model.merged_into_id.is_(None))))
            excluded = dup.remembered(session, kind)
            rows = [r for r in rows if r.a_id in active and r.b_id in active and (r.a_id, r.b_id) not in excluded]
            rows = rows[:limit]
            records = self._records(session, kind, {i for r in rows for i in (r.a_id, r.b_id)})
            return [{"id": r.id, "kind": kind, "score": round(r.score, 4), "reasons": list(r.reasons),
                     "found_at": r.found_at.isoformat(), "a": records[r.a_id], "b": records[r.b_id]} for r in rows]

    def _records(self, session, kind: str, ids: set[int]) -> dict[int, dict]:
        if not ids:
            return {}
        counts = {row_id: n for row_id, n in session.execute(
            select(Participant.contact_id if kind == "contact" else Participant.company_id,
                   func.count(func.distinct(Participant.interaction_id)))
            .where((Participant.contact_id if kind == "contact" else Participant.company_id).in_(ids))
            .group_by(Participant.contact_id if kind == "contact" else Participant.company_id))}
        out: dict[int, dict] = {}
        if kind == "contact":
            names = {cid: name for cid, name in session.execute(select(Company.id, Company.name))}
            phones: dict[int, list[str]] = {}
            for cid, phone in session.execute(select(ContactPhone.contact_id, ContactPhone.phone)
                                              .where(ContactPhone.contact_id.in_(ids))):
                phones.setdefault(cid, []).append(phone)
            for c in session.scalars(select(Contact).where(Contact.id.in_(ids))):
                out[c.id] = {**contact_summary(c, names), "other_phones": phones.get(c.id, []),
                             "created_at": c.created_at.isoformat(), "updated_at": c.updated_at.isoformat(),
                             "interactions": counts.get(c.id, 0)}
            return out
        domains: dict[int, list[str]] = {}
        for cid, domain in session.execute(select(CompanyDomain.company_id, CompanyDomain.domain)
                                           .where(CompanyDomain.company_id.in_(ids))):
            domains.setdefault(cid, []).append(domain)
        for c in session.scalars(select(Company).where(Company.id.in_(ids))):
            out[c.id] = {**company_summary(c, sorted(domains.get(c.id, []))), "interactions": counts.get(c.id, 0),
                         "contacts": session.scalar(select(func.count()).select_from(Contact)
                                                    .where(Contact.company_id == c.id))}
        return out

    def merge(self, kind: str, keep_id: int, other_id: int) -> dict:
        """Fold ``other_id`` into ``keep_id``; the answer holds the merge id `unmerge` takes."""
        dup.check_kind(kind)
        primary = getattr(self._matching, "merge_primary_address", "older")
        with self.app.store.unit_of_work() as session:
            log = merging.merge(session, kind, int(keep_id), int(other_id), self._now(), primary=primary)
            return {"merge_id": log.id, "kind": kind, "kept": log.keep_id, "merged": log.other_id,
                    "undo": f"crm-agent unmerge {log.id}"}

    def not_duplicate(self, kind: str, a_id: int, b_id: int) -> dict:
        """Remember that two records are different: the pair is never proposed nor merged again."""
        with self.app.store.unit_of_work() as session:
            return dup.remember_not_duplicate(session, kind, int(a_id), int(b_id), self._now())

    def unmerge(self, merge_id: int) -> dict:
        """Undo a merge exactly (both records, addresses, phones, links), even after new mail arrived."""
        with self.app.store.unit_of_work() as session:
            return merging.unmerge(session, int(merge_id), self._now())

    def merges(self, limit: int = 50) -> list[dict]:
        """The merge log, newest first."""
        with self.app.store.read() as session:
            logs = list(session.scalars(select(MergeLog).order_by(MergeLog.id.desc()).limit(limit)))
            return [self._merge_entry(log) for log in logs]

    @staticmethod
    def _merge_entry(log: MergeLog) -> dict[str, Any]:
        def label(row: dict) -> str:
            return row.get("display_name") or row.get("name") or f"#{row.get('id')}"

        snapshot = log.snapshot or {}
        return {"id": log.id, "kind": log.kind, "kept": {"id": log.keep_id, "name": label(snapshot.get("keep", {}))},
                "merged": {"id": log.other_id, "name": label(snapshot.get("other", {}))}, "at": log.at.isoformat(),
                "auto": log.auto, "score": log.score, "reasons": list(log.reasons or []),
                "undone_at": log.undone_at.isoformat() if log.undone_at else None}

    # ------------------------------------------------------------------ re-matching

    def add_address(self, contact_id: int, address: str, *, primary: bool = False) -> dict:
        """One more address for a contact; its past interactions are linked at once."""
        from agent.pipeline.account_sync import match_policy
        from agent.store.crm_repo import add_contact_address

        with self.app.store.unit_of_work() as session:
            return add_contact_address(session, int(contact_id), address, primary=primary,
                                       aliases=match_policy(self.app.settings).alias_rules)

    def add_domain(self, company: int | str, domain: str) -> dict:
        """One more domain for a company (a URL, ``www.`` or an address will do); past mail on it is linked."""
        from agent.store.crm_repo import add_company_domain

        with self.app.store.unit_of_work() as session:
            return add_company_domain(session, self._company_id(session, company), domain)

    # ------------------------------------------------------------------ companies

    def companies(self, search: str | None = None, limit: int = 200) -> list[dict]:
        with self.app.store.read() as session:
            return list_companies(session, search=search, limit=limit)

    def company(self, ref: str) -> dict:
        """A company page: its domains, contacts, merged records and timeline."""
        with self.app.store.read() as session:
            return company_page(session, str(ref), self.app.zone)
