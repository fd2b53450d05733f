"""The one place the ingest pipeline is assembled: the ordered stage list and what a batch runs with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from agent.matching.matcher import MatchPolicy
from agent.pipeline import stages
from agent.pipeline.context import Batch, WorkItem
from agent.privacy.stage import forget_erased
from agent.records import RawItem
from agent.store.models import SyncTarget

Stage = Callable[[Batch], None]

#: list → fetch happen in the engine; these run on each fetched batch, in this order, inside one transaction.
STAGES: tuple[Stage, ...] = (
    stages.parse,
    stages.filter_noise,
    stages.identity,
    forget_erased,
    stages.match,
    stages.link_unknown,
    stages.upsert,
    stages.queue_unknown,
    stages.arm_rules,
)


@dataclass
class PipelineContext:
    """Everything a stage may read: the open session, the target row, the account's settings, matching policy."""

    session: Session
    target: SyncTarget
    account: Any  # an AccountSettings model
    policy: MatchPolicy
    is_blocked: Callable[[str], bool]
    skip_internal: bool = True
    parse_calendar: Callable[[RawItem, datetime], Any] | None = None
    meeting_drafts: Callable[[WorkItem, Batch], list] = lambda item, batch: []
    rules: Any = None  # object with on_batch(batch)
    matching: Any = None  # the [matching] settings (default creation policy); None: built-in defaults
    orphaned: set[int] = field(default_factory=set)  # interactions that lost their last sighting in this batch


def run_batch(raws: Sequence[RawItem], ctx: PipelineContext, now: datetime, stage_list: Sequence[Stage] | None = None) -> Batch:
    """Run every stage over one batch; the caller commits (or rolls back) the session afterwards."""
    batch = Batch([WorkItem(raw) for raw in raws], ctx, now)
    batch.report.fetched = len(batch.items)
    for stage in stage_list if stage_list is not None else STAGES:
        stage(batch)
    if ctx.orphaned:
        from agent.store.sync_repo import mark_orphans_removed

        mark_orphans_removed(ctx.session, ctx.orphaned, now)
        ctx.orphaned.clear()
    return batch
