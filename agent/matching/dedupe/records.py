"""The value types of de-duplication: the records it compares and the scored pairs it proposes.

They are plain frozen dataclasses so the store can build them from rows and the engine stays free of any ORM.
Tuples (not lists) hold the multi-valued fields so records are hashable and safely shared.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """A person as the CRM knows them. ``street`` may hold several lines separated by newlines or commas."""

    id: int
    first_name: str
    last_name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    company: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "FR"  # ISO 3166 alpha-2; the region phones without a "+" prefix are read in


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    """An organisation as the CRM knows it. ``siren`` is the French 9-digit company number when known."""

    id: int
    name: str
    domains: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    street: str = ""
    postcode: str = ""
    city: str = ""
    siren: str = ""
    country: str = "FR"


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """Two records that may be the same, ``a_id < b_id``.

    ``score`` is the estimated probability (0..1) that they are the same contact/company; ``reasons`` says in
    plain words what agreed and what did not, strongest evidence first.
    """

    a_id: int
    b_id: int
    score: float
    reasons: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[int, int]:
        return (self.a_id, self.b_id)
