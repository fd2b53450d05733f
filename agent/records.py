"""Plain frozen dataclasses passed between layers: connectors, parsers, matching and rules never see ORM objects.

Vocabulary (see docs/DESIGN.md §1): an *account* holds *targets* (folders, calendars); a connector lists
changes of a target as ``ItemRef`` values (a *location* plus a connector-private key), fetches them as
``RawItem`` bytes; parsers turn bytes into ``ParsedEmail`` / ``ParsedMeeting``; the pipeline turns those into
``InteractionDraft`` values, which the store writes once per *identity key*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Direction(StrEnum):
    """Which way an interaction went, seen from the company."""

    IN = "in"
    OUT = "out"
    INTERNAL = "internal"


class Role(StrEnum):
    """The part an address plays on an interaction."""

    FROM = "from"
    TO = "to"
    CC = "cc"
    BCC = "bcc"
    ORGANIZER = "organizer"
    ATTENDEE = "attendee"


class MatchReason(StrEnum):
    """Why a participant is linked to a contact or company; stored with every link so `explain` can answer."""

    EXACT = "exact"  # the contact's primary address
    ALIAS = "alias"  # one of the contact's secondary addresses (or a configured alias form)
    DOMAIN = "domain"  # the company owns the address's domain (company links only)
    REPLY_INHERITED = "reply-inherited"  # a reply inherits the thread's links
    MANUAL = "manual"  # a person linked it by hand
    CREATED = "created"  # the contact was auto-created from this participant (per the account's policy)


class Visibility(StrEnum):
    """How much of each item an account stores."""

    METADATA = "metadata"  # participants and date only
    SUBJECT = "subject"  # + subject
    SNIPPET = "snippet"  # + first ~300 characters of new text (no quotes, no signature)
    FULL = "full"  # + the whole text body


# ---------------------------------------------------------------------------------------------- connectors


@dataclass(frozen=True, slots=True)
class TargetRef:
    """One folder or calendar inside an account. ``name`` is the server's own name (decoded)."""

    account: str
    name: str
    kind: str = "mail"  # "mail" | "calendar"
    role: str = "other"  # "inbox" | "sent" | "other" | "calendar"
    display: str = ""

    @property
    def label(self) -> str:
        return self.display or self.name


@dataclass(frozen=True, slots=True)
class ItemRef:
    """An item as listed by a connector.

    ``location`` is globally unique and stable while the item stays where it is (``account/target/uidvalidity/uid``,
    a CalDAV href, an EWS item id); ``key`` is what the connector needs to fetch it; ``version`` (ETag, change key)
    lets a re-listing tell an unchanged item from an edited one. Location is not identity.
    """

    location: str
    key: str
    version: str = ""


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """One page of changes since a cursor.

    ``is_full``: this listing enumerates everything present (the cursor was empty or invalid); once the last
    page (``more`` false) is stored, locations of the target that were not listed are gone.
    """

    upserts: tuple[ItemRef, ...]
    deletes: tuple[str, ...]  # locations no longer on the server
    next_cursor: str
    more: bool = False
    is_full: bool = False


@dataclass(frozen=True, slots=True)
class RawItem:
    """The bytes of one item, as the visibility level allows, plus what the server said about it."""

    ref: ItemRef
    data: bytes
    media_type: str = "message/rfc822"  # | "text/calendar" | "text/vcard" | "text/csv"
    received_at: datetime | None = None  # IMAP INTERNALDATE, file mtime: the fallback for a missing Date
    size: int | None = None


# ---------------------------------------------------------------------------------------------- parsed items


@dataclass(frozen=True, slots=True)
class Mailbox:
    """An address as found in a header: ``address`` normalized, ``name`` the decoded display name."""

    address: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """What crm-agent keeps of an email. Parsing never raises: what it had to repair is listed in ``repairs``."""

    message_id: str | None  # normalized: no angle brackets, no whitespace
    subject: str
    date: datetime  # timezone-aware, UTC
    from_: tuple[Mailbox, ...]
    to: tuple[Mailbox, ...] = ()
    cc: tuple[Mailbox, ...] = ()
    bcc: tuple[Mailbox, ...] = ()
    reply_to: tuple[Mailbox, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    # headers the noise filter reads, lower-case names -> raw decoded values
    noise_headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain"
    snippet: str = ""
    body: str = ""
    attachments: tuple[str, ...] = ()
    calendar_parts: tuple[bytes, ...] = ()  # text/calendar parts (invitations)
    content_hash: str = ""  # sha256 of normalized headers + text, for identity when Message-ID is missing
    repairs: tuple[str, ...] = ()
    size: int = 0

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.noise_headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Attendee:
    """A meeting attendee or organizer as written in iCalendar."""

    address: str
    name: str = ""
    role: str = ""  # REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR, ...
    partstat: str = ""  # ACCEPTED, DECLINED, TENTATIVE, NEEDS-ACTION


@dataclass(frozen=True, slots=True)
class ParsedMeeting:
    """One occurrence of a meeting (a single event is its own only occurrence)."""

    uid: str
    recurrence_id: str | None  # occurrence start in UTC, ISO format, for occurrences of a series
    summary: str
    start: datetime  # aware UTC
    end: datetime  # aware UTC
    all_day: bool = False
    tzid: str = ""  # zone the event was written in, for display
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"  # CONFIRMED | TENTATIVE | CANCELLED
    organizer: Attendee | None = None
    attendees: tuple[Attendee, ...] = ()
    sequence: int = 0
    method: str = ""  # iTIP METHOD when it came from an invitation: REQUEST | REPLY | CANCEL
    content_hash: str = ""
    repairs: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------- pipeline output


@dataclass(slots=True)
class ParticipantDraft:
    """An address on an interaction, with its links and why they were made."""

    address: str
    role: Role
    name: str = ""
    is_internal: bool = False
    contact_id: int | None = None
    contact_reason: MatchReason | None = None
    company_id: int | None = None
    company_reason: MatchReason | None = None
    partstat: str = ""


@dataclass(slots=True)
class InteractionDraft:
    """An email or meeting ready to be written once under its identity key."""

    identity_key: str
    kind: str  # "email" | "meeting"
    occurred_at: datetime
    subject: str
    direction: Direction
    thread_key: str
    participants: list[ParticipantDraft] = field(default_factory=list)
    ends_at: datetime | None = None
    snippet: str = ""
    body: str = ""
    message_id: str | None = None
    content_hash: str = ""
    status: str = ""  # meetings: CONFIRMED / CANCELLED
    details: dict = field(default_factory=dict)  # attachments, repairs, auto-reply flags, meeting location...
