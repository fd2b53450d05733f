"""Tables of the meetings feature: durable agent events, iTIP replies, series expansions, files from the drop folder.

``agent_event`` is generic: ``meeting.ended`` is written here once per occurrence (unique ``key``), and the rule
engine may write ``email.sent`` / ``email.received`` / ``contact.created`` the same way. A consumer marks an event
``consumed_at`` in the transaction that acts on it, so a restart neither loses nor repeats one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent.store.base import Base


class AgentEvent(Base):
    """Something that happened, for the rule engine: written once per ``key``, consumed once."""

    __tablename__ = "agent_event"
    __table_args__ = (Index("ix_agent_event_pending", "consumed_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # meeting.ended, email.sent, email.received, ...
    key: Mapped[str] = mapped_column(String(600), unique=True)  # e.g. "meeting.ended:ical:<uid>#<recurrence id>"
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]  # when it happened (a meeting's end), not when it was noticed
    created_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]


class MeetingReply(Base):
    """An attendee's answer (iTIP REPLY) to a meeting, kept so it applies whenever the meeting arrives or changes.

    ``recurrence_id`` is empty for an answer to the whole series (or to a single event). The latest answer per
    attendee wins: higher SEQUENCE, then later ``replied_at``.
    """

    __tablename__ = "meeting_reply"
    __table_args__ = (UniqueConstraint("uid", "recurrence_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(512), index=True)
    recurrence_id: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(320))
    partstat: Mapped[str] = mapped_column(String(24))
    sequence: Mapped[int] = mapped_column(default=0)
    replied_at: Mapped[datetime]
    source_location: Mapped[str] = mapped_column(String(1024), default="")


class SeriesExpansion(Base):
    """When a recurring calendar object was last expanded: the window moves with time, so a series nobody edits is
    expanded again now and then (its next occurrences appear, see MeetingsService.refresh_windows)."""

    __tablename__ = "series_expansion"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_location: Mapped[str] = mapped_column(String(1024), unique=True)
    item_key: Mapped[str] = mapped_column(String(1024))  # what the connector fetches it by (href, file name)
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_target.id", ondelete="CASCADE"), index=True)
    expanded_at: Mapped[datetime] = mapped_column(index=True)


class DroppedFile(Base):
    """A file taken from the drop folder (or `crm-agent import`), known by the hash of its bytes."""

    __tablename__ = "dropped_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(512))
    file_kind: Mapped[str] = mapped_column(String(16))  # eml | mbox | ics | vcf | csv
    status: Mapped[str] = mapped_column(String(16))  # imported | rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[int] = mapped_column(default=0)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    imported_at: Mapped[datetime]
