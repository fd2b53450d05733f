"""RulesService: the rule engine's API for the CLI, the web page and the daemon (``service.feature("rules")``).

Every public method returns JSON-ready dicts and lists. Time comes from the AgentService's clock unless ``now`` is
given. The daemon's timer loop calls ``run_due()`` (``tick()`` then ``deliver_outbox()``) every minute or so; the
first call after a start fires what became due while the agent was down, within ``EngineOptions.grace``.
"""

from __future__ import annotations

import difflib
import os
import socket
import uuid
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select, update

from agent.errors import UserError
from agent.rules.arming import PipelineHook
from agent.rules.engine import EngineOptions, RuleEngine
from agent.rules.firing import Scheduler, ensure_watermark
from agent.rules.outbox import Outbox
from agent.rules.schedule import BusinessCalendar
from agent.rules.spec import RuleSpec, parse_rules
from agent.store.models_crm import Contact
from agent.store.models_rules import TIMER_STATES, Deal, OutboxMessage, Task, Timer


def _iso(value: datetime | None, zone) -> str | None:
    return value.astimezone(zone).isoformat() if value else None


class RulesService:
    """Built lazily by ``AgentService.feature("rules")``; ``options`` may be replaced (``rules.options = ...``)."""

    def __init__(self, service, options: EngineOptions | None = None) -> None:
        self.service = service
        self.options = options or EngineOptions.from_settings(service.settings)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._rules: tuple[RuleSpec, ...] | None = None
        self._calendar: BusinessCalendar | None = None
        self._started = False

    # ------------------------------------------------------------------ plumbing

    @property
    def settings(self):
        return self.service.settings

    @property
    def zone(self):
        return self.service.zone

    @property
    def rules(self) -> tuple[RuleSpec, ...]:
        if self._rules is None:
            s = self.settings
            self._rules = parse_rules(s.rules, timezone=s.timezone, country=s.country, subdiv=s.subdivision)
        return self._rules

    @property
    def engine(self) -> RuleEngine:
        if self._calendar is None:
            s = self.settings
            self._calendar = BusinessCalendar(s.country, s.subdivision, s.timezone)
        return RuleEngine(self.rules, self._calendar, self.options)

    def configure(self, **changes: Any) -> EngineOptions:
        """Change engine options for this process (the demo and tests use it); returns the new options."""
        self.options = replace(self.options, **changes)
        return self.options

    def _now(self, now: datetime | None) -> datetime:
        return now or self.service.clock.now()

    def _startup(self) -> None:
        """Once per process: contacts that already exist are not `contact.created` events."""
        if not self._started:
            with self.service.store.unit_of_work() as session:
                ensure_watermark(session)
            self._started = True

    def _rule(self, name: str) -> RuleSpec:
        for rule in self.rules:
            if rule.name == name:
                return rule
        names = [r.name for r in self.rules]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f' (did you mean "{close[0]}"?)' if close else f" (rules: {', '.join(names) or 'none configured'})"
        raise UserError(f"no rule named {name!r}{hint}")

    # ------------------------------------------------------------------ engine

    def pipeline_hook(self) -> PipelineHook | None:
        """The hook the import pipeline runs in each batch transaction; None when no rule is enabled."""
        if not any(rule.enabled for rule in self.rules):
            return None
        self._startup()
        return PipelineHook(self.engine)

    def scheduler(self) -> Scheduler:
        smtp = self.settings.smtp
        return Scheduler(self.service.store, self.engine, self.zone, self.owner, mail_from=smtp.sender if smtp else "")

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Arm schedule/new-contact timers, claim the due ones under a lease and fire them. Returns counts."""
        self._startup()
        now = self._now(now)
        meetings = self.service.feature("meetings")
        if meetings is not None and any(r.enabled and r.trigger.event == "meeting.ended" for r in self.rules):
            meetings.emit_ended(now)  # the meetings feature writes meeting.ended events; the tick consumes them
        return self.scheduler().tick(now)

    def deliver_outbox(self, now: datetime | None = None, *, limit: int = 100) -> dict[str, int]:
        """Deliver due outbox rows (rule mails at most once, webhooks at least once with an idempotency key)."""
        outbox = Outbox(self.service.store, self.options, self.settings.smtp, self.owner)
        return outbox.deliver(self._now(now), limit=limit)

    def run_due(self, now: datetime | None = None) -> dict[str, Any]:
        now = self._now(now)
        return {"timers": self.tick(now), "outbox": self.deliver_outbox(now)}

    # ------------------------------------------------------------------ rules

    def list_rules(self) -> list[dict[str, Any]]:
        with self.service.store.read() as session:
            counts: dict[tuple[str, str], int] = {(r, s): n for r, s, n in session.execute(
                select(Timer.rule, Timer.status, func.count()).group_by(Timer.rule, Timer.status))}
        out = []
        for rule in self.rules:
            out.append({
                "name": rule.name, "enabled": rule.enabled, "on": rule.trigger.event, "cron": rule.trigger.cron,
                "after": str(rule.delay) if rule.delay else None, "unless": [c.kind for c in rule.unless],
                "once_per": rule.once_per, "do": [a.type for a in rule.actions], "description": rule.description,
                "timers": {status: counts[(rule.name, status)] for status in TIMER_STATES
                           if counts.get((rule.name, status))},
            })
        return out

    def check(self) -> dict[str, Any]:
        """Validate the rules (the config loader already did; this re-reads them) and what firing will need."""
        problems: list[str] = []
        warnings: list[str] = []
        for rule in self.rules:
            for index, action in enumerate(rule.actions):
                where = f"{rule.key_path}.do[{index}]"
                recipients = [*getattr(action, "to", ()), *getattr(action, "cc", ())]
                if getattr(action, "assignee", None) is not None:
                    recipients.append(action.assignee)
                if any(r.kind == "manager" for r in recipients) and not self.options.manager_address:
                    warnings.append(f"{where}: names the manager, but no manager address is configured")
                if action.type == "email" and not action.dry_run and self.settings.smtp is None:
                    problems.append(f"{where}: dry_run = false but [smtp] is not configured")
                if action.type == "email" and action.dry_run:
                    warnings.append(f"{where}: dry_run = true: mails are recorded, not sent")
                if action.type == "webhook" and action.secret is not None:
                    try:
                        action.secret.reveal()
                    except UserError as error:  # its message starts with the key path already
                        problems.append(error.message)
        return {"rules": len(self.rules), "enabled": sum(r.enabled for r in self.rules), "ok": not problems,
                "problems": problems, "warnings": warnings}

    def simulate(self, name: str, since: date | None = None, now: datetime | None = None) -> dict[str, Any]:
        from agent.rules.simulate import simulate

        rule = self._rule(name)
        start = datetime.combine(since, time.min, tzinfo=self.zone) if since else datetime(1970, 1, 1, tzinfo=self.zone)
        with self.service.store.read() as session:
            return simulate(session, self.engine, rule, start, self._now(now), self.zone)

    # ------------------------------------------------------------------ timers

    def timer_dict(self, t: Timer) -> dict[str, Any]:
        payload = t.payload or {}
        return {"id": t.id, "rule": t.rule, "event": t.event, "status": t.status, "due_at": _iso(t.due_at, self.zone),
                "event_at": _iso(t.event_at, self.zone), "armed_at": _iso(t.armed_at, self.zone),
                "closed_at": _iso(t.closed_at, self.zone), "outcome": t.outcome, "interaction_id": t.interaction_id,
                "cancelled_by": t.cancelled_by_id, "contact": (payload.get("contact") or {}).get("address", ""),
                "subject": payload.get("subject", ""), "attempts": t.attempts, "dedupe_key": t.dedupe_key}

    def timers(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        with self.service.store.read() as session:
            query = select(Timer).order_by(Timer.due_at, Timer.id).limit(limit)
            if status:
                query = query.where(Timer.status == status)
            return [self.timer_dict(t) for t in session.scalars(query)]

    def cancel_timer(self, timer_id: int) -> dict[str, Any]:
        from agent.rules import timers

        now = self._now(None)
        with self.service.store.unit_of_work() as session:
            timer = session.get(Timer, timer_id)
            if timer is None:
                raise UserError(f"no timer with id {timer_id}")
            if timer.status != "pending":
                raise UserError(f"timer {timer_id} is {timer.status}, not pending: nothing to cancel")
            timers.cancel(session, [timer_id], now, "cancelled by hand")
            timers.log(session, timer.rule, "cancelled", now, timer_id=timer_id, reasons=["cancelled by hand"])
            session.flush()
            session.refresh(timer)
            return self.timer_dict(timer)

    # ------------------------------------------------------------------ tasks, deals, outbox

    def task_dict(self, t: Task, contacts: dict[int, str]) -> dict[str, Any]:
        return {"id": t.id, "title": t.title, "body": t.body, "assignee": t.assignee, "status": t.status,
                "due_at": _iso(t.due_at, self.zone), "created_at": _iso(t.created_at, self.zone),
                "done_at": _iso(t.done_at, self.zone), "rule": t.rule, "timer_id": t.timer_id,
                "contact_id": t.contact_id, "contact": contacts.get(t.contact_id or 0, ""),
                "interaction_id": t.interaction_id}

    def tasks(self, open_only: bool = False, limit: int = 500) -> list[dict[str, Any]]:
        with self.service.store.read() as session:
            query = select(Task).order_by(Task.status.desc(), Task.due_at, Task.id).limit(limit)
            if open_only:
                query = query.where(Task.status == "open")
            rows = list(session.scalars(query))
            ids = {t.contact_id for t in rows if t.contact_id}
            names = {cid: name for cid, name in session.execute(
                select(Contact.id, Contact.display_name).where(Contact.id.in_(ids)))} if ids else {}
            return [self.task_dict(t, names) for t in rows]

    def task_done(self, task_id: int) -> dict[str, Any]:
        with self.service.store.unit_of_work() as session:
            task = session.get(Task, task_id)
            if task is None:
                raise UserError(f"no task with id {task_id}")
            if task.status != "done":
                task.status, task.done_at = "done", self._now(None)
            return self.task_dict(task, {})

    def deals(self, limit: int = 500) -> list[dict[str, Any]]:
        with self.service.store.read() as session:
            rows = list(session.scalars(select(Deal).order_by(Deal.updated_at.desc(), Deal.id.desc()).limit(limit)))
            return [{"id": d.id, "name": d.name, "stage": d.stage, "previous_stage": d.previous_stage,
                     "amount": d.amount, "currency": d.currency, "owner": d.owner, "contact_id": d.contact_id,
                     "company_id": d.company_id, "thread_key": d.thread_key, "source": d.source,
                     "updated_at": _iso(d.updated_at, self.zone), "closed_at": _iso(d.closed_at, self.zone)}
                    for d in rows]

    def outbox(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        with self.service.store.read() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
            if status:
                query = query.where(OutboxMessage.status == status)
            out = []
            for m in session.scalars(query):
                p = m.payload or {}
                out.append({"id": m.id, "kind": m.kind, "status": m.status, "rule": m.rule, "key": m.idempotency_key,
                            "to": p.get("to") or p.get("url"), "cc": p.get("cc", []), "subject": p.get("subject", ""),
                            "body": p.get("body", ""), "message_id": p.get("message_id"), "attempts": m.attempts,
                            "next_attempt_at": _iso(m.next_attempt_at, self.zone), "last_error": m.last_error,
                            "delivered_at": _iso(m.delivered_at, self.zone),
                            "created_at": _iso(m.created_at, self.zone)})
            return out

    def outbox_retry(self, message_id: int) -> dict[str, Any]:
        """Requeue a failed or ambiguous row — a person's decision, since an ambiguous mail may already be sent."""
        with self.service.store.unit_of_work() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None:
                raise UserError(f"no outbox message with id {message_id}")
            if row.status not in ("failed", "ambiguous", "dry_run"):
                raise UserError(f"outbox message {message_id} is {row.status}: only failed, ambiguous or dry-run "
                                "messages can be sent again")
            session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
                status="pending", phase="", next_attempt_at=self._now(None), attempts=0,
                last_error=f"requeued by hand (was {row.status})"))
        return {"id": message_id, "status": "pending"}

    # ------------------------------------------------------------------ explain

    def log_for_interaction(self, session, interaction_id: int) -> list[dict[str, Any]]:
        from agent.rules.timers import rules_for_interaction

        return rules_for_interaction(session, interaction_id, self.zone)

