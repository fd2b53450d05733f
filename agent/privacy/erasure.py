"""Recognising erased addresses: digests only, checked by the pipeline so an erased person is never re-imported."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.store.models_privacy import Erasure
from agent.store.sql import chunks


def address_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def erased_among(session: Session, addresses: Iterable[str]) -> set[str]:
    """The addresses of this set whose owner asked for erasure."""
    by_hash = {address_hash(a): a for a in set(addresses)}
    found: set[str] = set()
    for part in chunks(list(by_hash), 500):
        found.update(by_hash[h] for h in session.scalars(select(Erasure.address_hash).where(Erasure.address_hash.in_(part))))
    return found
