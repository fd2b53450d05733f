"""Matching and de-duplication tables: the unknown-address queue, the stored blocklist, duplicate candidates, the
not-duplicate memory, the merge log (with the snapshot an undo restores) and a contact's extra phone numbers.

``duplicate_candidate`` and ``not_duplicate`` hold pairs of contact ids or of company ids (``kind`` says which), so
their ids are plain integers, not foreign keys. A pair is stored with ``a_id < b_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agent.store.base import Base

UNKNOWN_STATES = ("pending", "created", "accepted", "attached", "ignored", "blocklisted")
CANDIDATE_STATES = ("pending", "merged", "not_duplicate", "stale")


class ReviewUnknown(Base):
    """An external address seen on interactions without a contact: counts and dates for the review queue.

    ``count`` is the number of interactions it appeared on, ``sent_count`` how many of those we sent (or organized);
    ``first_seen`` / ``last_seen`` are dates of those interactions, not of the import. ``status`` records what a
    person (or the auto-creation policy) decided; ``reason`` why the policy did not create a contact.
    """

    __tablename__ = "review_unknown"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    domain: Mapped[str] = mapped_column(String(253), default="", index=True)
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | role
    count: Mapped[int] = mapped_column(default=0)
    sent_count: Mapped[int] = mapped_column(default=0)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    last_interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reason: Mapped[str] = mapped_column(String(128), default="")
    decided_at: Mapped[datetime | None]
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="SET NULL"))


class BlockedAddress(Base):
    """An address (``x@y.fr``) or a domain (``@y.fr``) blocklisted in review: never logged, never created."""

    __tablename__ = "blocked_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32), default="review")


class DuplicateCandidate(Base):
    """A pair the de-duplication scan scored between the review and the merge thresholds (or merged, or refused)."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (UniqueConstraint("kind", "a_id", "b_id"),
                      Index("ix_duplicate_candidate_kind_status", "kind", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # contact | company
    a_id: Mapped[int]
    b_id: Mapped[int]
    score: Mapped[float]
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    found_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    merge_id: Mapped[int | None]


class NotDuplicate(Base):
    """Pairs a person said are different, remembered so the pair is never proposed (nor merged automatically) again."""

    __tablename__ = "not_duplicate"
    __table_args__ = (UniqueConstraint("kind", "a_id", "b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    a_id: Mapped[int]
    b_id: Mapped[int]
    decided_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16), default="review")  # review | unmerge


class MergeLog(Base):
    """One merge of ``other_id`` into ``keep_id``; ``snapshot`` holds everything an undo needs to restore both."""

    __tablename__ = "merge_log"
    __table_args__ = (Index("ix_merge_log_kind_keep_id", "kind", "keep_id"),
                      Index("ix_merge_log_kind_other_id", "kind", "other_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    keep_id: Mapped[int]
    other_id: Mapped[int]
    at: Mapped[datetime]
    auto: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float | None]
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    undone_at: Mapped[datetime | None]


class ContactPhone(Base):
    """Phone numbers of a contact beyond ``contact.phone`` (kept by merges and imports, E.164 when they parsed)."""

    __tablename__ = "contact_phone"
    __table_args__ = (UniqueConstraint("contact_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32), default="merge")
