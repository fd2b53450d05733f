"""Survivorship: which value the merged record keeps when two contacts or two companies become one (pure).

The rules (also in docs/MATCHING.md):

- The *recent* record is the one updated last (``updated_at``; the kept record on a tie), except that a record a person
  gave (imported, accepted in review, typed) always outranks one the agent made from mail (``source`` "auto"):
  a name or company guessed from a mail never overwrites one a person entered. The *older* record is the one
  created first (``created_at``, then the lower id). The record that keeps its id is the one the person (or the scan)
  chose to keep; these rules decide its values, whichever it is.
- Every single-valued field takes the recent record's value when it is not empty, else the other's
  ("most recent non-empty value"): title, status, company and main phone of a contact; name, phone, street,
  postcode, city and SIREN of a company (its ``details`` are combined, the recent record's keys winning).
- A person's name moves as one unit (display name, first and last name), from the recent record when it has
  both a first and a last name, else from the other when it does, else the recent non-empty display name: a
  merge never builds a name out of two halves.
- Nothing is dropped: tags are the union (recent first), distinct notes are all kept (older first), every
  phone number not kept as the main one becomes an extra phone, every address and company domain moves over.
- The primary address is the older record's primary address (the one the contact has been known by longest),
  or the kept record's when configured (``primary="keep"``); a record without addresses leaves it to the other.
- ``created_at`` is the earlier of the two; ``updated_at`` the time of the merge; ``source`` the kept record's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]

CONTACT_FIELDS = ("title", "status", "company_id", "phone")
COMPANY_FIELDS = ("name", "phone", "street", "postcode", "city", "siren")


def _recency(row: Row) -> tuple:
    # A record a person gave (import, review, by hand) outranks one guessed from mail ("auto"), however recent.
    return (row.get("source") != "auto", row["updated_at"])


def recent_and_older(keep: Row, other: Row) -> tuple[Row, Row]:
    """(the record whose values win, the other one): see the module docstring. Ties go to the kept record."""
    return (keep, other) if _recency(keep) >= _recency(other) else (other, keep)


def older_of(a: Row, b: Row) -> Row:
    """The record created first."""
    return a if (a["created_at"], a["id"]) <= (b["created_at"], b["id"]) else b


def _first_non_empty(values: Sequence[Any]) -> Any:
    return next((v for v in values if v not in (None, "")), values[0])


def _names(recent: Row, other: Row) -> dict[str, str]:
    for record in (recent, other):
        if record["first_name"] and record["last_name"]:
            display = record["display_name"] or f"{record['first_name']} {record['last_name']}"
            return {"display_name": display, "first_name": record["first_name"], "last_name": record["last_name"]}
    for record in (recent, other):
        if record["display_name"] or record["first_name"] or record["last_name"]:
            return {k: record[k] for k in ("display_name", "first_name", "last_name")}
    return {k: recent[k] for k in ("display_name", "first_name", "last_name")}


def merged_contact(keep: Row, other: Row, now: datetime) -> dict[str, Any]:
    """The kept contact's new values (every column but ``id``)."""
    recent, stale = recent_and_older(keep, other)
    older = older_of(keep, other)
    values: dict[str, Any] = {field: _first_non_empty([recent[field], stale[field]]) for field in CONTACT_FIELDS}
    values.update(_names(recent, stale))
    tags = list(recent["tags"] or [])
    tags += [t for t in (stale["tags"] or []) if t not in tags]
    younger = other if older is keep else keep
    notes = [n for n in (older["notes"], younger["notes"]) if n]
    values.update(
        tags=tags,
        notes="\n\n".join(dict.fromkeys(notes)),
        source=keep["source"],
        created_at=older["created_at"],
        updated_at=now,
        merged_into_id=None,
    )
    return values


def merged_company(keep: Row, other: Row, now: datetime) -> dict[str, Any]:
    """The kept company's new values (every column but ``id``)."""
    recent, stale = recent_and_older(keep, other)
    values: dict[str, Any] = {field: _first_non_empty([recent[field], stale[field]]) for field in COMPANY_FIELDS}
    values.update(
        details={**(stale["details"] or {}), **(recent["details"] or {})},
        source=keep["source"],
        created_at=older_of(keep, other)["created_at"],
        updated_at=now,
        merged_into_id=None,
    )
    return values


def primary_address(keep: Row, other: Row, addresses: Sequence[Row], primary: str = "older") -> str | None:
    """The address that stays primary: the older record's primary (or the kept one's with ``primary="keep"``)."""
    first = keep if primary == "keep" else older_of(keep, other)
    second = other if first is keep else keep
    for record in (first, second):
        own = [a for a in addresses if a["contact_id"] == record["id"]]
        chosen = next((a for a in own if a["is_primary"]), None) or (own[0] if own else None)
        if chosen is not None:
            return chosen["address"]
    return None


def extra_phones(main: str, phones: Sequence[str]) -> list[str]:
    """Every distinct phone number but the main one, in order."""
    return [p for p in dict.fromkeys(phones) if p and p != main]
