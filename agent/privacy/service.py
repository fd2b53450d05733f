"""PrivacyService: the RGPD requests, as the CLI (and any other shell) calls them over the AgentService's store."""

from __future__ import annotations

from agent.privacy.person import erase_person, export_person


class PrivacyService:
    def __init__(self, service) -> None:
        self.service = service

    def export(self, address: str) -> dict:
        """Everything stored about the person owning ``address`` (their other addresses included)."""
        with self.service.store.unit_of_work() as session:  # writes the audit entry
            return export_person(session, address, self.service.zone, self.service.clock.now())

    def erase(self, address: str) -> dict:
        """Erase the person from the store, in one transaction, and keep them from being re-imported."""
        with self.service.store.unit_of_work() as session:
            return erase_person(session, address, self.service.clock.now())
