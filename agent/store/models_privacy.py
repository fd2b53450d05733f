"""Privacy tables: erased addresses (as digests, so an erased person is never re-imported) and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from agent.store.base import Base


class Erasure(Base):
    """An address whose data was erased on request. Only a SHA-256 digest is kept: enough to recognise the address
    in future mail (and skip it), not enough to read it back."""

    __tablename__ = "erasure"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    erased_at: Mapped[datetime]


class AuditLog(Base):
    """Who did what to personal data, when (erasures, exports). Never holds the personal data itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(128), default="")  # a digest, an id: never an address
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
