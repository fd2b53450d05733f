"""The ingest stages, one small function each: parse, filter_noise, identity, match, link_unknown, upsert...

Each stage takes the whole ``Batch`` (so lookups are one query per batch, not per item) and either enriches an
item or drops it with ``batch.skip(item, stage, reason)``; skipped items are recorded with their reason.
"""

from __future__ import annotations

import hashlib

from agent.matching import autocreate
from agent.matching.matcher import ContactHit, link_participants, lookup_keys
from agent.pipeline.context import Batch, WorkItem
from agent.pipeline.noise import classify_noise
from agent.pipeline.parse_email import parse_email
from agent.pipeline.threads import thread_key
from agent.records import Direction, InteractionDraft, ParsedEmail, ParticipantDraft, RawItem, Role, Visibility
from agent.store import interactions_repo as repo

#: iTIP methods of an email's text/calendar part that change a meeting; the email is then the meeting's sighting,
#: not an interaction of its own (PUBLISH, COUNTER, REFRESH... stay plain emails).
INVITATION_METHODS = frozenset({"REQUEST", "ADD", "CANCEL", "REPLY"})
_BULK_HEADERS = ("list-id", "list-unsubscribe")

_PARSE_VISIBILITY = {
    Visibility.METADATA: Visibility.SUBJECT,  # the subject is read (thread keys, rules) but not stored
    Visibility.SUBJECT: Visibility.SUBJECT,
    Visibility.SNIPPET: Visibility.SNIPPET,
    Visibility.FULL: Visibility.FULL,
}


def parse(batch: Batch) -> None:
    """Bytes → ParsedEmail. Never fails an item for bad MIME: the parser repairs and says what it repaired."""
    visibility = _PARSE_VISIBILITY[batch.ctx.account.visibility]
    for item in batch.live():
        if item.raw.media_type == "message/rfc822":
            item.parsed = parse_email(item.raw.data, received_at=item.raw.received_at, visibility=visibility)
            if item.parsed.repairs:
                batch.report.repaired += 1
            if item.parsed.calendar_parts and batch.ctx.parse_calendar is not None:
                item.meetings = invitation(item, batch)
        elif item.raw.media_type == "text/calendar" and batch.ctx.parse_calendar is not None:
            item.meetings = batch.ctx.parse_calendar(item.raw, batch.now)
        else:
            batch.skip(item, "parse", "unsupported", item.raw.media_type)


def filter_noise(batch: Batch) -> None:
    """Drop bulk and automated mail, blocklisted senders and (if configured) internal-only mail."""
    ctx = batch.ctx
    for item in batch.live():
        parsed = item.parsed
        if parsed is None:
            continue
        if item.meetings is not None:  # an invitation is a meeting message by construction: only the blocklist applies
            blocked = next((a for a in parsed.from_ if ctx.is_blocked(a.address)), None)
            if blocked is not None:
                batch.skip(item, "filter_noise", "blocklist", blocked.address)
            continue
        if (noise := classify_noise(parsed)) is not None:
            batch.skip(item, "filter_noise", noise)
            continue
        addresses = [m.address for m in (*parsed.from_, *parsed.to, *parsed.cc)]
        blocked = next((a for a in parsed.from_ if ctx.is_blocked(a.address)), None)
        if blocked is not None:
            batch.skip(item, "filter_noise", "blocklist", blocked.address)
            continue
        if ctx.skip_internal and addresses and all(ctx.policy.is_internal(a) for a in addresses):
            batch.skip(item, "filter_noise", "internal")


def identity(batch: Batch) -> None:
    """Build the draft: identity key, direction, thread key, participants, and what the visibility level keeps."""
    for item in batch.live():
        if item.parsed is not None and item.meetings is not None:  # invitation: the meeting's drafts, no email
            item.drafts = batch.ctx.meeting_drafts(item, batch)
        elif item.parsed is not None:
            item.drafts = [email_draft(item.parsed, batch.ctx)]
        elif item.meetings is not None:
            item.drafts = batch.ctx.meeting_drafts(item, batch)
            if not item.drafts and item.skip is None:
                batch.skip(item, "identity", "no-occurrence-in-window")


def match(batch: Batch) -> None:
    """Link participants to contacts (exact / alias) and companies (via the contact, or by domain)."""
    ctx = batch.ctx
    participants = [p for item in batch.live() for d in item.drafts for p in d.participants if not p.is_internal]
    if not participants:
        return
    keys, domains = lookup_keys({p.address for p in participants}, ctx.policy)
    hits = {a: ContactHit(h.contact_id, h.is_primary, h.company_id) for a, h in repo.lookup_addresses(ctx.session, keys).items()}
    domain_ids = repo.lookup_domains(ctx.session, domains) if domains else {}
    link_participants(participants, hits, domain_ids, ctx.policy)


def link_unknown(batch: Batch) -> None:
    """Participants left without a contact: reply-inherited links, review decisions, the account's creation policy."""
    autocreate.settle(batch)


def upsert(batch: Batch) -> None:
    """Write interactions once per identity key, one sighting per location, and record skips."""
    ctx = batch.ctx
    sighted: list[repo.Sighted] = []
    owners: list[WorkItem] = []
    for item in batch.live():
        ref = item.raw.ref
        for draft in item.drafts:
            location = ref.location if draft.kind == "email" else f"{ref.location}#{draft.identity_key}"
            sighted.append(repo.Sighted(location, ref.location, ref.version, draft))
            owners.append(item)
        if item.meetings is not None:
            keep = {f"{ref.location}#{d.identity_key}" for d in item.drafts}
            lost = repo.drop_stale_occurrences(ctx.session, ref.location, keep, batch.now)
            if lost:
                ctx.orphaned.update(lost)
    written = repo.upsert_interactions(ctx.session, ctx.target.id, ctx.target.listing_generation, sighted, batch.now)
    for item, result in zip(owners, written, strict=True):
        item.interaction_ids.append(result.interaction_id)
        item.new.append(result.created)
        if result.created:
            batch.report.created += 1
        elif result.changed:
            batch.report.updated += 1
        else:
            batch.report.duplicates += 1
    for item in list(batch.live()):
        if item.parsed is not None and item.meetings is not None:  # logged as its meeting, recorded as why
            batch.skip(item, "identity", "calendar:invitation", invitation_detail(item))
    skips = [
        {
            "location": item.raw.ref.location, "version": item.raw.ref.version, "stage": item.skip.stage,
            "reason": item.skip.reason, "detail": item.skip.detail[:1000],
            "message_id": item.parsed.message_id if item.parsed else None,
            "subject": (item.parsed.subject if item.parsed else "")[:500],
        }
        for item in batch.items
        if item.skip is not None
    ]
    repo.record_skips(ctx.session, ctx.target.id, ctx.target.listing_generation, skips, batch.now)
    ctx.target.items_synced += batch.report.created + batch.report.duplicates + batch.report.updated
    ctx.target.items_skipped += len(skips)
    ctx.target.known_items += len({s.item_location for s in sighted})


def queue_unknown(batch: Batch) -> None:
    """Count the unknown external addresses of the interactions just written in the review queue."""
    autocreate.queue(batch)


def arm_rules(batch: Batch) -> None:
    """Hand the written interactions to the rule engine, inside the same transaction."""
    if batch.ctx.rules is not None:
        batch.ctx.rules.on_batch(batch)


# ----------------------------------------------------------------------------------------------- helpers


def invitation(item: WorkItem, batch: Batch):
    """The email's calendar part when it is an iTIP message about a meeting (not from a mailing list), else None."""
    parsed = item.parsed
    if any(parsed.header(name) for name in _BULK_HEADERS) or (parsed.header("precedence") or "").lower() in ("bulk", "list"):
        return None
    for part in parsed.calendar_parts:
        raw = RawItem(item.raw.ref, part, "text/calendar", item.raw.received_at)
        calendar = batch.ctx.parse_calendar(raw, batch.now)
        if calendar.method in INVITATION_METHODS and (calendar.occurrences or calendar.replies):
            return calendar
    return None


def invitation_detail(item: WorkItem) -> str:
    """Where the invitation went: ``CANCEL → ical:<uid>#… (#12)`` or ``REPLY ical:<uid> a@b=ACCEPTED``."""
    calendar = item.meetings
    if calendar.replies:
        answers = ", ".join(f"{r.identity} {r.address}={r.partstat}" for r in calendar.replies[:5])
        return f"{calendar.method} {answers}"
    keys = [f"{d.identity_key} (#{i})" for d, i in zip(item.drafts, item.interaction_ids, strict=False)][:5]
    more = f" and {len(item.drafts) - 5} more" if len(item.drafts) > 5 else ""
    return f"{calendar.method} → {', '.join(keys)}{more}" if keys else f"{calendar.method}: no occurrence in the window"


def header_fingerprint(parsed: ParsedEmail) -> str:
    """Sender + Date: identical in every copy of one message, different for a message reusing its Message-ID."""
    sender = parsed.from_[0].address if parsed.from_ else ""
    return hashlib.sha256(f"{sender}|{parsed.date.isoformat()}".encode()).hexdigest()[:32]


def headers_identity(parsed: ParsedEmail) -> str:
    """Identity of a mail without Message-ID: its headers only, so copies fetched at different visibility levels
    (headers alone, or with the text) are still one interaction."""
    parts = [
        ",".join(m.address for m in parsed.from_), ",".join(sorted(m.address for m in parsed.to)),
        ",".join(sorted(m.address for m in parsed.cc)), parsed.date.isoformat(), parsed.subject,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def email_draft(parsed: ParsedEmail, ctx) -> InteractionDraft:
    policy = ctx.policy
    participants: list[ParticipantDraft] = []
    for role, boxes in ((Role.FROM, parsed.from_), (Role.TO, parsed.to), (Role.CC, parsed.cc), (Role.BCC, parsed.bcc)):
        for box in boxes:
            participants.append(ParticipantDraft(box.address, role, box.name, policy.is_internal(box.address)))
    sender_internal = bool(parsed.from_) and all(policy.is_internal(b.address) for b in parsed.from_)
    if participants and all(p.is_internal for p in participants):
        direction = Direction.INTERNAL
    elif sender_internal:
        direction = Direction.OUT
    else:
        direction = Direction.IN
    visibility = ctx.account.visibility
    details: dict = {}
    if parsed.attachments:
        details["attachments"] = list(parsed.attachments)
    if parsed.repairs:
        details["repairs"] = list(parsed.repairs)
    if parsed.in_reply_to:
        details["in_reply_to"] = parsed.in_reply_to
    fingerprint = header_fingerprint(parsed)
    key = f"mid:{parsed.message_id}" if parsed.message_id else f"hash:{headers_identity(parsed)}"
    return InteractionDraft(
        identity_key=key,
        kind="email",
        occurred_at=parsed.date,
        subject=parsed.subject if visibility != Visibility.METADATA else "",
        direction=direction,
        thread_key=thread_key(parsed),
        participants=participants,
        snippet=parsed.snippet if visibility in (Visibility.SNIPPET, Visibility.FULL) else "",
        body=parsed.body if visibility == Visibility.FULL else "",
        message_id=parsed.message_id,
        content_hash=fingerprint,
        details=details,
    )
