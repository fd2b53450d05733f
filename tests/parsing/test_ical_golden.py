"""Golden files: each tests/golden/ical/<name>.ics parses to exactly what <name>.json expects.

The JSON holds ``params`` (the window, default zone and cap the file is parsed with) and ``expected`` (the parse,
rendered for review by eye: every occurrence shows its local wall time next to UTC). After a deliberate change,
regenerate with ``CRM_REGEN_GOLDEN=1 .venv/bin/pytest tests/parsing/test_ical_golden.py`` and read the diff before
committing it: the regenerated files are the new contract.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agent.pipeline.ical_tz import well_known_zone
from agent.pipeline.parse_ical import CalendarParse, meeting_identity, parse_calendar
from agent.records import Attendee, ParsedMeeting

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "ical"
REGENERATE = os.environ.get("CRM_REGEN_GOLDEN") == "1"
DEFAULT_PARAMS = {
    "window_start": "2026-01-01T00:00:00+00:00",
    "window_end": "2027-01-01T00:00:00+00:00",
    "default_tz": "Europe/Paris",
    "max_occurrences": 5000,
}
LISTED_IN_FULL = 40  # above this, the golden keeps the first and last few occurrences and the count

CASES = sorted(GOLDEN_DIR.glob("*.ics"))


def parse_with(params: dict[str, Any], data: bytes) -> CalendarParse:
    return parse_calendar(
        data,
        window_start=datetime.fromisoformat(params["window_start"]),
        window_end=datetime.fromisoformat(params["window_end"]),
        default_tz=params["default_tz"],
        max_occurrences=params["max_occurrences"],
    )


def render_person(person: Attendee | None) -> dict[str, str] | None:
    if person is None:
        return None
    return {"address": person.address, "name": person.name, "role": person.role, "partstat": person.partstat}


def render_meeting(meeting: ParsedMeeting, calendar_tz: str) -> dict[str, Any]:
    zone = well_known_zone(meeting.tzid) or well_known_zone(calendar_tz)
    local_start, local_end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
    return {
        "identity": meeting_identity(meeting.uid, meeting.recurrence_id),
        "summary": meeting.summary,
        "local": f"{local_start:%a %Y-%m-%d %H:%M} → {local_end:%a %Y-%m-%d %H:%M} {zone}",
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "all_day": meeting.all_day,
        "tzid": meeting.tzid,
        "status": meeting.status,
        "location": meeting.location,
        "description": meeting.description,
        "organizer": render_person(meeting.organizer),
        "attendees": [render_person(attendee) for attendee in meeting.attendees],
        "sequence": meeting.sequence,
        "method": meeting.method,
        "repairs": list(meeting.repairs),
        "content_hash": meeting.content_hash,
    }


def render(result: CalendarParse) -> dict[str, Any]:
    occurrences = [render_meeting(meeting, result.calendar_tz) for meeting in result.occurrences]
    rendered: dict[str, Any] = {
        "method": result.method,
        "calendar_tz": result.calendar_tz,
        "repairs": list(result.repairs),
        "uids": list(result.uids),
        "cancelled_uids": list(result.cancelled_uids),
        "series": [
            {
                "uid": info.uid,
                "recurring": info.recurring,
                "rrules": list(info.rrules),
                "status": info.status,
                "sequence": info.sequence,
                "occurrences": info.occurrences,
            }
            for info in result.series
        ],
        "replies": [
            {
                "identity": reply.identity,
                "address": reply.address,
                "name": reply.name,
                "partstat": reply.partstat,
                "sequence": reply.sequence,
            }
            for reply in result.replies
        ],
        "occurrence_count": len(occurrences),
    }
    if len(occurrences) > LISTED_IN_FULL:
        rendered["first_occurrences"] = occurrences[:5]
        rendered["last_occurrences"] = occurrences[-5:]
    else:
        rendered["occurrences"] = occurrences
    return rendered


def test_golden_directory_has_the_cases_the_brief_lists() -> None:
    names = {case.stem for case in CASES}
    assert {
        "outlook_fr_invitation",
        "google_export_xwr",
        "radicale_vtimezone",
        "weekly_exdate_overrides",
        "all_day",
        "floating",
        "reply_partstat",
        "cancel_series",
        "hostile_missing_uid",
        "hostile_broken_tzid",
        "until_other_zone",
        "ten_thousand",
        "vtimezone_quirks",
        "truncated",
        "binary_garbage",
        "dst_paris",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_golden(case: Path) -> None:
    expected_path = case.with_suffix(".json")
    stored = json.loads(expected_path.read_text(encoding="utf-8")) if expected_path.exists() else {}
    params = stored.get("params", DEFAULT_PARAMS)
    actual = render(parse_with(params, case.read_bytes()))
    if REGENERATE:
        text = json.dumps({"params": params, "expected": actual}, ensure_ascii=False, indent=2) + "\n"
        expected_path.write_text(text, encoding="utf-8")
    assert "expected" in stored or REGENERATE, f"{expected_path.name} missing: run with CRM_REGEN_GOLDEN=1"
    if not REGENERATE:
        assert actual == stored["expected"]
    assert not any(code.startswith("internal:") for code in actual["repairs"]), actual["repairs"]


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_golden_parse_is_deterministic(case: Path) -> None:
    params = DEFAULT_PARAMS
    first, second = parse_with(params, case.read_bytes()), parse_with(params, case.read_bytes())
    assert first == second
