"""The calendar hook of the ingest pipeline: parses calendar objects and invitations, builds one draft per occurrence.

The pipeline calls ``parse(raw, now)`` for each text/calendar item (and for an email's text/calendar part), then
``drafts(item, batch)`` inside the batch's transaction. Drafts of one batch are checked against the stored copies
of the same occurrences (precedence by SEQUENCE, calendar over invitation) and receive the attendees' stored
answers; an iTIP REPLY is stored and applied to the meeting it answers, and gives no draft of its own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from agent.config.accounts_caldav import DEFAULT_FUTURE_MONTHS, DEFAULT_PAST_MONTHS
from agent.meetings import store
from agent.meetings.drafts import (
    CALENDAR,
    INVITATION,
    Reply,
    StoredCopy,
    apply_replies,
    copy_wins,
    latest_replies,
    meeting_draft,
)
from agent.pipeline.parse_ical import CalendarParse, parse_calendar
from agent.records import InteractionDraft, RawItem, Visibility

_MAX_OCCURRENCES = 5000


def window(now: datetime, past_months: int, future_months: int) -> tuple[datetime, datetime]:
    """[now - past, now + future): occurrences of recurring series outside it are not stored."""
    return now - relativedelta(months=past_months), now + relativedelta(months=future_months)


class CalendarHook:
    """Parses and drafts meetings for one account (a calendar account, or a mail account's invitations)."""

    def __init__(self, account, *, default_tz: str) -> None:
        self.account = account
        self.default_tz = getattr(account, "timezone", None) or default_tz
        self.past_months = getattr(account, "window_past_months", DEFAULT_PAST_MONTHS)
        self.future_months = getattr(account, "window_future_months", DEFAULT_FUTURE_MONTHS)
        self.max_occurrences = getattr(account, "max_occurrences", _MAX_OCCURRENCES)
        self._batch = None
        self._batch_drafts: dict[str, InteractionDraft] = {}
        self._sighted: dict | None = None

    # ------------------------------------------------------------------ parsing

    def parse(self, raw: RawItem, now: datetime) -> CalendarParse:
        start, end = window(now, self.past_months, self.future_months)
        return parse_calendar(raw.data, window_start=start, window_end=end, default_tz=self.default_tz,
                              max_occurrences=self.max_occurrences)

    # ------------------------------------------------------------------ drafting

    def drafts(self, item, batch) -> list[InteractionDraft]:
        calendar: CalendarParse = item.meetings
        session = batch.ctx.session
        origin = INVITATION if item.parsed is not None else CALENDAR
        if calendar.replies:
            self._record_replies(calendar, item, session, batch.now)
            self._reply_to_batch(calendar, session, batch)
        if origin == CALENDAR and any(series.recurring for series in calendar.series):
            calendar = item.meetings = self._cover_stored_past(item, batch)
            store.mark_expanded(session, item.raw.ref.location, item.raw.ref.key, batch.ctx.target.id, batch.now)
        visibility = getattr(self.account, "visibility", Visibility.SNIPPET)
        drafts = [meeting_draft(m, batch.ctx.policy, visibility, origin) for m in calendar.occurrences]
        if not drafts:
            return []
        if origin == CALENDAR:
            self._follow_moved_slots(drafts, item, batch)
        replies = latest_replies(store.replies_for(session, {d.details["uid"] for d in drafts}))
        stored = store.stored_copies(session, {d.identity_key for d in drafts})
        in_batch = self._drafts_of(batch)
        for draft in drafts:
            apply_replies(draft, replies)
            # The upsert writes the first draft of a key in a batch: the winning copy's content goes into that one.
            first = in_batch.setdefault(draft.identity_key, draft)
            if first is not draft and copy_wins(draft, _as_stored(first)):
                _adopt(first, draft)
            copy = stored.get(draft.identity_key)
            for candidate in {id(first): first, id(draft): draft}.values():
                if not copy_wins(candidate, copy):
                    # Keep the stored copy: the same hash makes the upsert add this sighting without rewriting it.
                    candidate.content_hash = copy.content_hash
        return drafts

    def _drafts_of(self, batch) -> dict[str, InteractionDraft]:
        """identity key -> the first meeting draft of that key in this batch (earlier items included)."""
        self._for_batch(batch)
        return self._batch_drafts

    def _for_batch(self, batch) -> None:
        if self._batch is not batch:
            self._batch, self._batch_drafts, self._sighted = batch, {}, None

    def _sighted_at(self, item, batch) -> list[tuple[int, str, datetime]]:
        """(interaction id, identity key, start) of the occurrences stored from this calendar object."""
        self._for_batch(batch)
        if self._sighted is None:  # one query for every calendar object of the batch
            locations = [i.raw.ref.location for i in batch.items if i.meetings is not None and i.parsed is None]
            self._sighted = store.occurrences_sighted_at(batch.ctx.session, locations)
        return self._sighted.get(item.raw.ref.location, [])

    def _cover_stored_past(self, item, batch) -> CalendarParse:
        """Expanding a series again (edited, or because the window moved) keeps covering the occurrences stored
        from it that have since fallen behind the window, so they stay on the timeline instead of turning removed."""
        start, end = window(batch.now, self.past_months, self.future_months)
        earliest = min((s[2] for s in self._sighted_at(item, batch)), default=None)
        if earliest is None or earliest >= start:
            return item.meetings
        return parse_calendar(item.raw.data, window_start=earliest, window_end=end, default_tz=self.default_tz,
                              max_occurrences=self.max_occurrences)

    def _follow_moved_slots(self, drafts: list[InteractionDraft], item, batch) -> None:
        """A series whose start time changed gives every occurrence a new RECURRENCE-ID, so a new identity. The
        occurrence this same calendar object gave on the same local day keeps its interaction (renamed to the new
        identity, then updated) instead of staying behind as a removed twin of the moved one."""
        fresh = [d for d in drafts if d.details.get("recurrence_id")]
        if not fresh:
            return
        new_keys = {d.identity_key for d in drafts}
        free = [s for s in self._sighted_at(item, batch) if s[1] not in new_keys]
        if not free:
            return
        session = batch.ctx.session
        taken = store.stored_keys(session, [d.identity_key for d in fresh])
        zone = _zone(self.default_tz)
        for draft in fresh:
            if draft.identity_key in taken:
                continue
            series = f"ical:{draft.details['uid']}#"
            day = draft.occurred_at.astimezone(zone).date()
            same_day = [s for s in free if s[1].startswith(series) and s[2].astimezone(zone).date() == day]
            if same_day:
                kept = min(same_day, key=lambda s: abs(s[2] - draft.occurred_at))
                store.rename(session, kept[0], draft.identity_key)
                free.remove(kept)

    def _reply_to_batch(self, calendar: CalendarParse, session, batch) -> None:
        """Answers reach the meetings of this batch too: those are not stored yet when the reply is read."""
        uids = {answer.uid for answer in calendar.replies}
        pending = [d for d in self._drafts_of(batch).values() if d.details.get("uid") in uids]
        if pending:
            replies = latest_replies(store.replies_for(session, uids))
            for draft in pending:
                apply_replies(draft, replies)

    def _record_replies(self, calendar: CalendarParse, item, session, now: datetime) -> None:
        replied_at = item.parsed.date if item.parsed is not None else (item.raw.received_at or now)
        for answer in calendar.replies:
            if not answer.partstat:
                continue
            reply = Reply(answer.uid, answer.recurrence_id or "", answer.address, answer.partstat.upper(),
                          answer.sequence, replied_at)
            if store.record_reply(session, reply, item.raw.ref.location):
                store.apply_reply_to_stored(session, reply)


def _as_stored(draft: InteractionDraft) -> StoredCopy:
    return StoredCopy(draft.content_hash, int(draft.details.get("sequence", 0)), draft.details.get("origin", ""),
                      draft.status)


def _adopt(first: InteractionDraft, winner: InteractionDraft) -> None:
    """Give the batch's first draft of a key the content of a copy that beats it (its key and kind stay)."""
    for name in ("occurred_at", "ends_at", "subject", "direction", "thread_key", "snippet", "body", "content_hash",
                 "status"):
        setattr(first, name, getattr(winner, name))
    first.participants = [replace(p) for p in winner.participants]
    first.details = dict(winner.details)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
