"""Reply-inherited links: a reply's participants that nothing else matched take the links their thread already has.

Two cases, both stored with the reason ``reply-inherited`` so `explain` says where a link came from:

1. *Same address, earlier in the thread.* An address a person linked by hand (or that inherited a link) on an
   earlier message keeps that contact / company on the replies, without being added to the contact.
2. *A personal address answering a customer's thread.* The sender of a reply, writing from a free-mail address
   (``jean.dupont@gmail.com``) that matches nothing, inherits the thread's company when the thread is linked to
   exactly one company. Never the contact: nothing proves which person it is. A sender from another company
   domain inherits nothing (a subcontractor in the loop is not the customer).

Only replies inherit: an email whose thread key (References root, else In-Reply-To) is a Message-ID other than
its own. Subject-based thread keys never do: unrelated mails share subjects like "Devis".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agent.records import InteractionDraft, MatchReason, ParticipantDraft, Role
from agent.store.models import Interaction, Participant
from agent.store.sql import chunks


@dataclass(frozen=True, slots=True)
class ThreadLink:
    """A linked external participant seen on one message of a thread."""

    identity_key: str
    occurred_at: datetime
    address: str
    contact_id: int | None
    company_id: int | None


def is_reply(draft: InteractionDraft) -> bool:
    return (draft.kind == "email" and draft.thread_key.startswith("mid:")
            and draft.thread_key != f"mid:{draft.message_id}")


def _needs_help(p: ParticipantDraft) -> bool:
    return not p.is_internal and (p.contact_id is None or p.company_id is None)


def stored_links(session: Session, thread_keys: Iterable[str]) -> dict[str, list[ThreadLink]]:
    """thread key -> linked external participants of the stored interactions of that thread."""
    by_thread: dict[str, list[ThreadLink]] = {}
    for part in chunks(sorted(set(thread_keys)), 500):
        rows = session.execute(
            select(Interaction.thread_key, Interaction.identity_key, Interaction.occurred_at, Participant.address,
                   Participant.contact_id, Participant.company_id)
            .join(Participant, Participant.interaction_id == Interaction.id)
            .where(Interaction.thread_key.in_(part), Participant.is_internal.is_(False),
                   or_(Participant.contact_id.is_not(None), Participant.company_id.is_not(None)))
        )
        for thread, *rest in rows:
            by_thread.setdefault(thread, []).append(ThreadLink(*rest))
    return by_thread


def inherit_links(replies: Iterable[InteractionDraft], links_by_thread: dict[str, list[ThreadLink]],
                  is_free_mail) -> int:
    """Apply both rules in place (pure); returns how many links were inherited."""
    inherited = 0
    for draft in replies:
        links = sorted((link for link in links_by_thread.get(draft.thread_key, ())
                        if link.identity_key != draft.identity_key), key=lambda link: link.occurred_at)
        if not links:
            continue
        latest_contact = {link.address: link.contact_id for link in links if link.contact_id is not None}
        latest_company = {link.address: link.company_id for link in links if link.company_id is not None}
        companies = {link.company_id for link in links if link.company_id is not None}
        for p in draft.participants:
            if not _needs_help(p):
                continue
            if p.contact_id is None and p.address in latest_contact:
                p.contact_id, p.contact_reason = latest_contact[p.address], MatchReason.REPLY_INHERITED
                inherited += 1
            if p.company_id is None and p.address in latest_company:
                p.company_id, p.company_reason = latest_company[p.address], MatchReason.REPLY_INHERITED
                inherited += 1
            elif (p.company_id is None and p.contact_id is None and p.role is Role.FROM and len(companies) == 1
                  and is_free_mail(p.address.rpartition("@")[2])):
                p.company_id, p.company_reason = next(iter(companies)), MatchReason.REPLY_INHERITED
                inherited += 1
    return inherited


def inherit(session: Session, drafts: list[InteractionDraft], policy) -> int:
    """The pipeline's call: thread links from the store and from the batch itself, then ``inherit_links``."""
    replies = [d for d in drafts if is_reply(d) and any(_needs_help(p) for p in d.participants)]
    if not replies:
        return 0
    threads = {d.thread_key for d in replies}
    by_thread = stored_links(session, threads)
    for draft in drafts:  # earlier mails of the thread in this very batch
        if draft.thread_key not in threads:
            continue
        for p in draft.participants:
            if not p.is_internal and (p.contact_id is not None or p.company_id is not None):
                by_thread.setdefault(draft.thread_key, []).append(
                    ThreadLink(draft.identity_key, draft.occurred_at, p.address, p.contact_id, p.company_id))
    return inherit_links(replies, by_thread, policy.is_free_mail)
