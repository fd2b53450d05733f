"""Sync-side tables: accounts, targets and their cursors, pending work, interactions, sightings, participants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agent.store.base import Base


class Account(Base):
    """One configured source. ``config_hash`` changes when its settings change (clears FAILED_AUTH)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    config_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(128))  # worker holding this account (PostgreSQL teams)
    lease_until: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # token expiry and other shown facts

    targets: Mapped[list[SyncTarget]] = relationship(back_populates="account", cascade="all, delete-orphan")


class SyncTarget(Base):
    """A folder or calendar with its cursor and sync state. Only agent.pipeline.sync_state assigns stage/status."""

    __tablename__ = "sync_target"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16), default="mail")
    role: Mapped[str] = mapped_column(String(16), default="other")
    display: Mapped[str] = mapped_column(String(512), default="")
    cursor: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(24), default="PENDING_FULL")
    status: Mapped[str] = mapped_column(String(16), default="NOT_SYNCED")
    full_listing: Mapped[bool] = mapped_column(default=False)  # a full enumeration is in progress
    listing_generation: Mapped[int] = mapped_column(default=0)
    stage_changed_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    error_kind: Mapped[str] = mapped_column(String(16), default="")
    items_synced: Mapped[int] = mapped_column(default=0)
    items_skipped: Mapped[int] = mapped_column(default=0)
    known_items: Mapped[int] = mapped_column(default=0)  # sightings currently at this target

    account: Mapped[Account] = relationship(back_populates="targets")


class PendingRef(Base):
    """Listed but not yet imported: written with the cursor that listed it, deleted with the batch that imports it."""

    __tablename__ = "pending_ref"
    __table_args__ = (UniqueConstraint("target_id", "location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_target.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(String(1024))
    key: Mapped[str] = mapped_column(String(1024))
    version: Mapped[str] = mapped_column(String(256), default="")
    generation: Mapped[int] = mapped_column(default=0)


class Interaction(Base):
    """One email or meeting on the timeline, written once per identity key whatever the number of sightings."""

    __tablename__ = "interaction"
    __table_args__ = (
        Index("ix_interaction_occurred_at_id", "occurred_at", "id"),
        # the meeting.ended check runs after every sync: without it, a scan of every email stored
        Index("ix_interaction_kind_ends_at", "kind", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_key: Mapped[str] = mapped_column(String(512), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | meeting
    occurred_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    subject: Mapped[str] = mapped_column(Text, default="")
    snippet: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    direction: Mapped[str] = mapped_column(String(16))
    thread_key: Mapped[str] = mapped_column(String(512), index=True)
    message_id: Mapped[str | None] = mapped_column(String(512), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]  # every sighting is gone; kept on the timeline as history

    participants: Mapped[list[Participant]] = relationship(back_populates="interaction", cascade="all, delete-orphan")
    sightings: Mapped[list[Sighting]] = relationship(back_populates="interaction", cascade="all, delete-orphan")


class Sighting(Base):
    """Where an interaction was seen. Location is unique; deleting by location never touches identity.

    ``item_location`` is the location of the listed item: the same as ``location`` for an email; for a recurring
    series, one calendar object gives many occurrences, each sighted at ``item_location#occurrence``.
    """

    __tablename__ = "sighting"

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interaction.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_target.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(String(1024), unique=True)
    item_location: Mapped[str] = mapped_column(String(1024), index=True)
    version: Mapped[str] = mapped_column(String(256), default="")
    seen_at: Mapped[datetime]
    generation: Mapped[int] = mapped_column(default=0)  # listing generation that last saw it (full-listing reconcile)

    interaction: Mapped[Interaction] = relationship(back_populates="sightings")


class Participant(Base):
    """An address on an interaction, its links, and *why* each link was made."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("interaction_id", "address", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (interaction_id, address, role) serves look-ups by interaction
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interaction.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320), index=True)
    domain: Mapped[str] = mapped_column(String(253), default="", index=True)  # registrable domain, for re-matching
    name: Mapped[str] = mapped_column(String(256), default="")
    role: Mapped[str] = mapped_column(String(16))
    is_internal: Mapped[bool] = mapped_column(default=False)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"), index=True)
    contact_reason: Mapped[str | None] = mapped_column(String(24))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="SET NULL"), index=True)
    company_reason: Mapped[str | None] = mapped_column(String(24))
    partstat: Mapped[str] = mapped_column(String(24), default="")

    interaction: Mapped[Interaction] = relationship(back_populates="participants")


class SkippedItem(Base):
    """An item the pipeline chose not to log, with the stage and reason, so `explain` can say why."""

    __tablename__ = "skipped_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_target.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(String(1024), unique=True)
    version: Mapped[str] = mapped_column(String(256), default="")
    generation: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(512), index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    skipped_at: Mapped[datetime]


class Meta(Base):
    """Small key/value facts about the store (matching index version, instance id)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
