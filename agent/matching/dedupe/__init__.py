"""Contact and company de-duplication engine: pure functions from records to scored, explained pairs.

Public API (no database, no network):

- ``find_contact_duplicates(records, *, high, low, exclude)`` / ``find_company_duplicates(...)`` -> ``ScoredPair``s
- ``link_contacts(left, right, *, low, exclude)``: the same scoring between two lists (an import against the CRM)
- ``cluster(pairs, threshold)``: duplicate groups, guarded against chaining; ``one_to_one(pairs)`` for linkage
- ``split_by_threshold(pairs, high)``: auto-merge candidates vs. review queue
- ``normalize_company_name(name)``, ``name_key(first, last)``: the canonical forms used for matching
"""

from agent.matching.dedupe.cluster import cluster, one_to_one
from agent.matching.dedupe.companies import find_company_duplicates
from agent.matching.dedupe.contacts import find_contact_duplicates, link_contacts
from agent.matching.dedupe.normalize import name_key, normalize_company_name
from agent.matching.dedupe.records import CompanyRecord, ContactRecord, ScoredPair
from agent.matching.dedupe.thresholds import split_by_threshold

__all__ = [
    "CompanyRecord",
    "ContactRecord",
    "ScoredPair",
    "cluster",
    "find_company_duplicates",
    "find_contact_duplicates",
    "link_contacts",
    "name_key",
    "normalize_company_name",
    "one_to_one",
    "split_by_threshold",
]
