"""The pipeline stage that keeps erased people out: their mail is skipped, their address dropped from others'."""

from __future__ import annotations

from agent.pipeline.context import Batch
from agent.privacy.erasure import erased_among
from agent.store.models_privacy import Erasure

_SENDER_ROLES = {"from", "organizer"}


def forget_erased(batch: Batch) -> None:
    """After ``identity``: an item sent or organised by an erased person, or whose only external participants
    were erased, is skipped as ``erased`` (nothing of it is kept, not even its subject); elsewhere the erased
    participants are removed before matching."""
    items = [item for item in batch.live() if item.drafts]
    if not items:
        return
    session = batch.ctx.session
    if session.query(Erasure.id).limit(1).first() is None:  # the common case: nobody was ever erased
        return
    erased = erased_among(session, {p.address for item in items for d in item.drafts for p in d.participants})
    if not erased:
        return
    for item in items:
        for draft in item.drafts:
            gone = [p for p in draft.participants if p.address in erased]
            externals = [p for p in draft.participants if not p.is_internal]
            if gone and ({p.role.value for p in gone} & _SENDER_ROLES or len(gone) == len(externals)):
                batch.skip(item, "privacy", "erased")
                item.parsed, item.drafts = None, []
                break
            draft.participants = [p for p in draft.participants if p.address not in erased]
