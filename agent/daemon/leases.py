"""Account leases: on a shared PostgreSQL, each account is synced by one worker at a time; a dead worker's
accounts are taken over when its lease expires. A conditional UPDATE is the whole protocol (portable, atomic)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from agent.store.db import Store
from agent.store.models import Account


def acquire(store: Store, account: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease of ``account``; False while another live worker holds it."""
    with store.unit_of_work() as session:
        result = session.execute(
            update(Account)
            .where(Account.name == account)
            .where(or_(Account.lease_owner.is_(None), Account.lease_owner == owner, Account.lease_until < now))
            .values(lease_owner=owner, lease_until=now + ttl)
        )
        if result.rowcount:
            return True
        # a brand-new account has no row yet: its first sync creates it, and the lease is taken on the next pass
        return session.scalar(select(Account.id).where(Account.name == account)) is None


def release(store: Store, account: str, owner: str) -> None:
    with store.unit_of_work() as session:
        session.execute(update(Account).where(Account.name == account, Account.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None))
