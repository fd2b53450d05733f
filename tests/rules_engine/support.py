"""A small world for rule-engine tests: a store, a service with rules, and mail ingested the way the pipeline does.

``World.ingest`` runs what the import stages ``match``, ``upsert`` and ``arm_rules`` do, in one unit of work, on
drafts built here, so the engine is exercised through its real pipeline hook with a controllable clock.
"""

from __future__ import annotations

import itertools
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.clock import FakeClock
from agent.config import Settings
from agent.matching.contacts_file import ContactRow
from agent.matching.matcher import ContactHit, link_participants, lookup_keys
from agent.pipeline.account_sync import match_policy
from agent.pipeline.context import Batch, WorkItem
from agent.records import (
    Direction,
    InteractionDraft,
    ItemRef,
    Mailbox,
    ParsedEmail,
    ParticipantDraft,
    RawItem,
    Role,
    TargetRef,
)
from agent.service import AgentService
from agent.store import crm_repo, sync_repo
from agent.store import interactions_repo as repo

EXAMPLES = Path(__file__).resolve().parent.parent / "rules" / "example_rules.toml"
OWN = "atelier-durand.fr"
PARIS_NOON = datetime(2026, 5, 7, 14, 40, tzinfo=UTC)  # Thursday 7 May 2026 16:40 Paris, before the 8 May holiday


def example_rules(*names: str, **overrides: dict[str, Any]) -> list[dict[str, Any]]:
    rules = tomllib.loads(EXAMPLES.read_text(encoding="utf-8"))["rules"]
    chosen = [r for r in rules if not names or r["name"] in names]
    for rule in chosen:
        rule.update(overrides.get(rule["name"], {}))
    return chosen


class _Ctx:
    def __init__(self, session, target, hook) -> None:
        self.session, self.target, self.rules = session, target, hook


class World:
    """``World(tmp, rules)``; ``world.clock`` is a FakeClock; ``world.rules`` the RulesService."""

    _ids = itertools.count(1)

    def __init__(self, tmp: Path, rules: list[dict[str, Any]], *, start: datetime = PARIS_NOON,
                 database: str | None = None, **settings: Any) -> None:
        raw = {"database": database or f"sqlite:///{tmp / 'crm.db'}", "own_domains": [OWN], "rules": rules,
               "timezone": "Europe/Paris", "country": "FR", **settings}
        self.settings = Settings.model_validate(raw)
        self.clock = FakeClock(start)
        self.service = AgentService(self.settings, clock=self.clock)
        self.rules = self.service.feature("rules")
        self.policy = match_policy(self.settings)
        self.targets: dict[str, int] = {}

    def close(self) -> None:
        self.service.close()

    # ------------------------------------------------------------------ CRM

    def contact(self, email: str, name: str = "", *, company: str = "", status: str = "", tags=()) -> int:
        first, _, last = name.partition(" ")
        row = ContactRow(line=1, emails=(email,), first_name=first, last_name=last, company=company, status=status,
                         tags=tuple(tags))
        with self.service.store.unit_of_work() as session:
            result = crm_repo.import_contacts(session, [row], self.policy, self.clock.now())
        return result.contact_ids[0]

    # ------------------------------------------------------------------ mail

    def mail(self, sender: str, to: str | list[str], subject: str, *, at: datetime | None = None,
             message_id: str | None = None, thread: str | None = None, in_reply_to: str | None = None,
             attachments: tuple[str, ...] = (), body: str = "", snippet: str = "",
             headers: dict[str, str] | None = None, cc: tuple[str, ...] = ()) -> tuple[InteractionDraft, ParsedEmail]:
        n = next(self._ids)
        mid = message_id or f"m{n}@{sender.rpartition('@')[2]}"
        when = at or self.clock.now()
        recipients = [to] if isinstance(to, str) else list(to)
        parsed = ParsedEmail(
            message_id=mid, subject=subject, date=when, from_=(Mailbox(sender),),
            to=tuple(Mailbox(a) for a in recipients), cc=tuple(Mailbox(a) for a in cc), in_reply_to=in_reply_to,
            noise_headers=tuple((k.lower(), v) for k, v in (headers or {}).items()), snippet=snippet or body[:300],
            body=body, attachments=attachments)
        internal = self.policy.is_internal
        participants = [ParticipantDraft(sender, Role.FROM, "", internal(sender))]
        participants += [ParticipantDraft(a, Role.TO, "", internal(a)) for a in recipients]
        participants += [ParticipantDraft(a, Role.CC, "", internal(a)) for a in cc]
        if all(p.is_internal for p in participants):
            direction = Direction.INTERNAL
        else:
            direction = Direction.OUT if internal(sender) else Direction.IN
        details: dict[str, Any] = {}
        if attachments:
            details["attachments"] = list(attachments)
        if in_reply_to:
            details["in_reply_to"] = in_reply_to
        draft = InteractionDraft(
            identity_key=f"mid:{mid}", kind="email", occurred_at=when, subject=subject, direction=direction,
            thread_key=thread or f"thread:{in_reply_to or mid}", participants=participants,
            snippet=snippet or body[:300], body=body, message_id=mid, content_hash=f"h{n}", details=details)
        return draft, parsed

    def meeting(self, organizer: str, attendees: list[str], subject: str, start: datetime, end: datetime,
                *, status: str = "CONFIRMED") -> tuple[InteractionDraft, None]:
        n = next(self._ids)
        internal = self.policy.is_internal
        people = [ParticipantDraft(organizer, Role.ORGANIZER, "", internal(organizer))]
        people += [ParticipantDraft(a, Role.ATTENDEE, "", internal(a), partstat="ACCEPTED") for a in attendees]
        draft = InteractionDraft(
            identity_key=f"ical:meeting{n}", kind="meeting", occurred_at=start, ends_at=end, subject=subject,
            direction=Direction.OUT if internal(organizer) else Direction.IN, thread_key=f"ical:meeting{n}",
            participants=people, content_hash=f"mh{n}", status=status)
        return draft, None

    def ingest(self, *mails: tuple[InteractionDraft, ParsedEmail], mailbox: str = "claire/INBOX", hook: bool = True):
        """Store the mails as one import batch of ``mailbox`` and run the rules hook in the same transaction
        (``hook=False``: as an importer without rules would, so only the fire-time check can see them)."""
        now = self.clock.now()
        hook = self.rules.pipeline_hook() if hook else None
        with self.service.store.unit_of_work() as session:
            target = self._target(session, mailbox, now)
            drafts = [d for d, _ in mails]
            people = [p for d in drafts for p in d.participants if not p.is_internal]
            keys, domains = lookup_keys({p.address for p in people}, self.policy)
            hits = {a: ContactHit(h.contact_id, h.is_primary, h.company_id)
                    for a, h in repo.lookup_addresses(session, keys).items()}
            link_participants(people, hits, _domains(session, domains), self.policy)
            sighted = [repo.Sighted(f"{mailbox}/{d.identity_key}", f"{mailbox}/{d.identity_key}", "", d)
                       for d in drafts]
            written = repo.upsert_interactions(session, target.id, 0, sighted, now)
            items = []
            for (draft, parsed), result in zip(mails, written, strict=True):
                item = WorkItem(RawItem(ItemRef(f"{mailbox}/{draft.identity_key}", "k"), b""), parsed=parsed)
                item.drafts, item.interaction_ids, item.new = [draft], [result.interaction_id], [result.created]
                items.append(item)
            batch = Batch(items, _Ctx(session, target, hook), now)
            report = hook.on_batch(batch) if hook is not None else None
        self.last_ids = [item.interaction_ids[0] for item in items]
        return report

    def _target(self, session, mailbox: str, now: datetime):
        account_name, _, folder = mailbox.partition("/")
        account, _ = sync_repo.ensure_account(session, account_name, "maildir", "", now)
        (target,) = sync_repo.ensure_targets(session, account, [TargetRef(account_name, folder or "INBOX")], now)
        return target

    # ------------------------------------------------------------------ reading

    def timers(self, status: str | None = None) -> list[dict[str, Any]]:
        return self.rules.timers(status)

    def tasks(self) -> list[dict[str, Any]]:
        return self.rules.tasks()


def _domains(session, domains) -> dict[str, int]:
    from sqlalchemy import select

    from agent.store.models_crm import CompanyDomain

    if not domains:
        return {}
    rows = session.execute(select(CompanyDomain.domain, CompanyDomain.company_id)
                           .where(CompanyDomain.domain.in_(list(domains))))
    return {domain: company_id for domain, company_id in rows}


class WebhookReceiver:
    """A local HTTP endpoint recording every POST (headers, body); ``answers`` pops a status code (or a
    (code, headers) pair) per request, 200 once they run out."""

    def __init__(self, answers: list | None = None) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers = list(answers or [])
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                code, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
