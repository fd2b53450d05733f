"""Rule-engine tables: timers (unique dedupe key, lease), the tasks and deals rules create, the outbox, the firing log.

A timer is written in the transaction of the interaction that armed it and fires at most once: its ``status`` goes
from ``pending`` to one of ``fired``, ``cancelled``, ``missed`` or ``failed`` in the transaction that writes the
effects (tasks, statuses, deals, outbox rows). Outside effects (SMTP, webhooks) leave through the ``outbox``, whose
unique ``idempotency_key`` is the timer's key plus the action's index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent.store.base import Base

TIMER_STATES = ("pending", "fired", "cancelled", "missed", "failed")
OUTBOX_STATES = ("pending", "sending", "delivered", "dry_run", "ambiguous", "failed", "cancelled")


class Timer(Base):
    """A rule waiting for its due time. ``lease_owner``/``lease_until`` mark the worker firing it right now."""

    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(700), unique=True)
    rule: Mapped[str] = mapped_column(String(80), index=True)
    event: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime]
    event_at: Mapped[datetime]  # when the triggering event happened (a reply must come after it)
    armed_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # when it fired, was cancelled, missed or failed
    outcome: Mapped[str] = mapped_column(Text, default="")  # why it was cancelled, missed or failed
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id", ondelete="SET NULL"), index=True)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id", ondelete="SET NULL"), index=True)
    thread_key: Mapped[str | None] = mapped_column(String(512), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what firing needs: addresses, amount, subject...


class Task(Base):
    """A to-do a rule created; (timer, action index) is unique, so a timer's task exists once whatever happens."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("timer_id", "action_index"), Index("ix_task_status_due_at", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    timer_id: Mapped[int | None] = mapped_column(ForeignKey("timer.id", ondelete="SET NULL"))
    action_index: Mapped[int] = mapped_column(default=0)
    rule: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str] = mapped_column(String(320), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id", ondelete="SET NULL"), index=True)


class Deal(Base):
    """A deal, per thread (else per contact). ``amount`` is a decimal written as text ("12450.00"): exact everywhere."""

    __tablename__ = "deal"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    stage: Mapped[str] = mapped_column(String(32), default="")
    previous_stage: Mapped[str] = mapped_column(String(32), default="")
    amount: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    owner: Mapped[str] = mapped_column(String(320), default="")
    thread_key: Mapped[str | None] = mapped_column(String(512), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(80), default="")  # the rule that created it, or "manual"
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """An outside effect waiting for delivery (an email, a webhook call), retried with back-off.

    ``phase`` tells how far an email got: "" (nothing sent), "connect" (talking to the server, no message data yet),
    "data" (the message is being handed over: after a crash here nobody knows whether it arrived).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(720), unique=True)
    timer_id: Mapped[int | None] = mapped_column(ForeignKey("timer.id", ondelete="SET NULL"), index=True)
    rule: Mapped[str] = mapped_column(String(80), default="")
    action_index: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16))  # email | webhook
    status: Mapped[str] = mapped_column(String(16), default="pending")
    phase: Mapped[str] = mapped_column(String(16), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class RuleFiring(Base):
    """The rule log: what a rule decided about an interaction or a timer, with its reasons (for `explain`)."""

    __tablename__ = "rule_firing"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(80), default="", index=True)
    decision: Mapped[str] = mapped_column(String(24))  # armed | cancelled | fired | missed | failed | not-a-reply
    timer_id: Mapped[int | None] = mapped_column(ForeignKey("timer.id", ondelete="SET NULL"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id", ondelete="SET NULL"), index=True)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    at: Mapped[datetime]
