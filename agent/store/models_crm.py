"""CRM-side tables: contacts, their addresses, companies and their domains."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agent.store.base import Base


class Company(Base):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    phone: Mapped[str] = mapped_column(String(32), default="")
    street: Mapped[str] = mapped_column(String(256), default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(128), default="")
    siren: Mapped[str] = mapped_column(String(16), default="")
    source: Mapped[str] = mapped_column(String(32), default="")  # import | auto | manual
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="SET NULL"))

    domains: Mapped[list[CompanyDomain]] = relationship(back_populates="company", cascade="all, delete-orphan")


class CompanyDomain(Base):
    __tablename__ = "company_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    company: Mapped[Company] = relationship(back_populates="domains")


class Contact(Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(256), default="")
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str] = mapped_column(String(128), default="")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")  # E.164 when it parsed
    title: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(24), default="")  # lead | prospect | client | ...
    tags: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(32), default="")  # import | auto | manual
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))

    addresses: Mapped[list[ContactAddress]] = relationship(back_populates="contact", cascade="all, delete-orphan")


class ContactAddress(Base):
    """An address belongs to exactly one contact; ``is_primary`` marks the one matches call `exact`."""

    __tablename__ = "contact_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    is_primary: Mapped[bool] = mapped_column(default=False)

    contact: Mapped[Contact] = relationship(back_populates="addresses")
