"""A small company's mailboxes for the matching tests: Maildirs synced through the real pipeline into a real store.

``World`` holds one or more Maildir accounts (own domain atelier-durand.fr), a fake clock and the service; tests add
mail with ``mail(...)``, run ``sync()``, and read the store back with the helpers here.
"""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.clock import FakeClock
from agent.store.models import Interaction, Participant
from agent.store.models_crm import Company, CompanyDomain, Contact, ContactAddress
from tests.support.env import maildir_spec, make_service
from tests.support.messages import make_message

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
CLAIRE = "Claire Martin <claire.martin@atelier-durand.fr>"
JULIEN = "Julien Petit <julien.petit@atelier-durand.fr>"


class World:
    def __init__(self, tmp: Path, *, accounts: dict[str, dict[str, Any]] | None = None, database: str | None = None,
                 **overrides: Any) -> None:
        self.tmp = tmp
        self.clock = FakeClock(NOW)
        accounts = accounts or {"claire": {}}
        self.boxes = {name: mailbox.Maildir(tmp / name, create=True) for name in accounts}
        specs = [maildir_spec(tmp / name, name=name, **extra) for name, extra in accounts.items()]
        self.service = make_service(tmp, specs, clock=self.clock, **({"database": database} if database else {}),
                                    **overrides)
        self.review = self.service.feature("review")
        self._n = 0

    def mail(self, *, sender: str, to: str, cc: str | None = None, box: str | None = None, subject: str = "Devis",
             message_id: str | None = "auto", in_reply_to: str | None = None, days_ago: float = 10,
             body: str = "Bonjour,\n\nVoici notre proposition.\n") -> str:
        """Put one mail in a Maildir; returns its Message-ID (without brackets)."""
        self._n += 1
        n = self._n
        mid = f"m{n}@test.atelier-durand.fr" if message_id == "auto" else message_id
        data = make_message(n, sender=sender, to=to, cc=cc, subject=subject, message_id=f"<{mid}>" if mid else None,
                            in_reply_to=f"<{in_reply_to}>" if in_reply_to else None,
                            date=NOW - timedelta(days=days_ago), body=body)
        self.boxes[box or next(iter(self.boxes))].add(data)
        return mid or ""

    def sync(self) -> dict:
        return self.service.sync()

    def contact_of(self, address: str) -> Contact | None:
        with self.service.store.read() as s:
            contact = s.scalar(select(Contact).join(ContactAddress).where(ContactAddress.address == address))
            if contact is not None:
                s.expunge(contact)
            return contact

    def links(self, address: str) -> list[tuple]:
        """(subject, contact id, contact reason, company id, company reason) of every participant with ``address``."""
        with self.service.store.read() as s:
            return [tuple(r) for r in s.execute(
                select(Interaction.subject, Participant.contact_id, Participant.contact_reason, Participant.company_id,
                       Participant.company_reason)
                .join(Interaction, Interaction.id == Participant.interaction_id)
                .where(Participant.address == address).order_by(Interaction.occurred_at, Participant.role))]

    def company_of_domain(self, domain: str) -> int | None:
        with self.service.store.read() as s:
            return s.scalar(select(CompanyDomain.company_id).where(CompanyDomain.domain == domain))

    def count(self, model) -> int:
        from sqlalchemy import func

        with self.service.store.read() as s:
            return s.scalar(select(func.count()).select_from(model))

    def companies(self) -> list[str]:
        with self.service.store.read() as s:
            return sorted(s.scalars(select(Company.name)))

    def close(self) -> None:
        self.service.close()


CSV_HEAD = "nom;prénom;email;société;téléphone;fonction;statut\n"


def import_csv(world: World, lines: str) -> dict:
    """Import a contacts.csv (French headers) through the service, as `crm-agent contacts import` does."""
    path = world.tmp / f"contacts{world._n}.csv"
    world._n += 1
    path.write_text(CSV_HEAD + lines, encoding="utf-8")
    return world.service.import_contacts(path)


def table_rows(session, skip: frozenset[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of every table (but ``skip``), sorted: the whole store, to compare before and after."""
    from agent.store.base import Base

    out = {}
    for table in Base.metadata.sorted_tables:
        if table.name in skip:
            continue
        rows = session.execute(select(table)).all()
        out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return out
