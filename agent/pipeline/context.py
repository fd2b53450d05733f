"""What flows through the pipeline: a batch of work items, each carrying its raw bytes, parse and drafts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.records import InteractionDraft, ParsedEmail, RawItem


@dataclass(frozen=True, slots=True)
class Skip:
    """Why an item is not logged: ``stage`` that decided, a short ``reason`` code, and free ``detail``."""

    stage: str
    reason: str
    detail: str = ""


@dataclass(slots=True)
class WorkItem:
    raw: RawItem
    parsed: ParsedEmail | None = None
    meetings: Any = None  # a CalendarParse for text/calendar items
    drafts: list[InteractionDraft] = field(default_factory=list)
    skip: Skip | None = None
    interaction_ids: list[int] = field(default_factory=list)  # filled by upsert
    new: list[bool] = field(default_factory=list)  # per draft: created by this batch?


@dataclass(slots=True)
class BatchReport:
    """Counts of one or more batches, summed by the engine into the sync report."""

    fetched: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0  # a new sighting of an interaction already stored
    skipped: Counter = field(default_factory=Counter)
    repaired: int = 0
    deleted: int = 0

    def add(self, other: BatchReport) -> None:
        self.fetched += other.fetched
        self.created += other.created
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.skipped.update(other.skipped)
        self.repaired += other.repaired
        self.deleted += other.deleted

    def as_dict(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "created": self.created,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "skipped": dict(self.skipped),
            "repaired": self.repaired,
            "deleted": self.deleted,
        }


@dataclass(slots=True)
class Batch:
    """One import batch of one target, processed by the stages in order, then committed as one unit."""

    items: list[WorkItem]
    ctx: Any  # agent.pipeline.run.PipelineContext
    now: datetime
    report: BatchReport = field(default_factory=BatchReport)

    def live(self) -> Iterator[WorkItem]:
        """Items no stage has skipped yet."""
        return (item for item in self.items if item.skip is None)

    def skip(self, item: WorkItem, stage: str, reason: str, detail: str = "") -> None:
        item.skip = Skip(stage, reason, detail)
        self.report.skipped[reason.split(":", 1)[0]] += 1
