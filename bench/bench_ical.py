"""iCalendar micro benchmark: crm-agent's parse_calendar against icalendar + recurring-ical-events used bare.

    .venv/bin/python bench/bench_ical.py [--runs 5] [--out bench/results/ical.json]

Cases, each parsed over the year 2026 (medians of ``--runs``, the two sides alternated in one run):

1. ``ten_thousand``: one rule with 10,000 occurrences in the window (every 30 minutes, Europe/Paris), capped at
   5,000 and uncapped. The brief's "must not hang" case.
2. ``many_singles``: 2,000 one-off meetings with attendees (a CalDAV export).
3. ``many_series``: 200 weekly series with overrides and EXDATEs (a sales team's recurring calls).
4. ``hostile``: a MINUTELY rule started in 1990 and an impossible rule, beside one normal event; bare
   recurring-ical-events is not run on it (it would take minutes), only ours, which refuses both rules.

The baseline (``Calendar.from_ical`` + ``recurring_ical_events.of(...).between(...)``) does no repairs, identities,
address normalization or hashing; the ratio says what those cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import icalendar  # noqa: E402
import recurring_ical_events  # noqa: E402

from agent.pipeline.parse_ical import parse_calendar  # noqa: E402

WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def calendar(events: list[str]) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def ten_thousand() -> bytes:
    return calendar([
        "BEGIN:VEVENT\r\nUID:dense\r\nDTSTART;TZID=Europe/Paris:20260101T000000\r\n"
        "DTEND;TZID=Europe/Paris:20260101T001500\r\nRRULE:FREQ=MINUTELY;INTERVAL=30;COUNT=10000\r\n"
        "ATTENDEE;CN=Robot:mailto:robot@example.org\r\nEND:VEVENT\r\n"
    ])


def many_singles(count: int = 2000) -> bytes:
    events = []
    for n in range(count):
        day, hour = 1 + n % 28, 8 + n % 10
        events.append(
            f"BEGIN:VEVENT\r\nUID:single-{n}@acme.fr\r\nDTSTART;TZID=Europe/Paris:2026{1 + n % 12:02d}{day:02d}T{hour:02d}0000\r\n"
            f"DTEND;TZID=Europe/Paris:2026{1 + n % 12:02d}{day:02d}T{hour:02d}4500\r\nSUMMARY:Rendez-vous {n}\r\n"
            f"ORGANIZER;CN=Jean Dupont:mailto:jean.dupont@acme.fr\r\n"
            f"ATTENDEE;CN=Client {n};PARTSTAT=ACCEPTED:mailto:client{n}@client-{n % 50}.fr\r\nEND:VEVENT\r\n"
        )
    return calendar(events)


def many_series(count: int = 200) -> bytes:
    events = []
    for n in range(count):
        start = f"202601{5 + n % 5:02d}T{8 + n % 9:02d}0000"
        moved_from = f"202603{2 + n % 5:02d}T{8 + n % 9:02d}0000"
        events.append(
            f"BEGIN:VEVENT\r\nUID:series-{n}@acme.fr\r\nDTSTART;TZID=Europe/Paris:{start}\r\nDURATION:PT30M\r\n"
            f"RRULE:FREQ=WEEKLY\r\nEXDATE;TZID=Europe/Paris:202602{2 + n % 5:02d}T{8 + n % 9:02d}0000\r\n"
            f"SUMMARY:Point hebdo {n}\r\nATTENDEE:mailto:client{n}@client.fr\r\nEND:VEVENT\r\n"
            f"BEGIN:VEVENT\r\nUID:series-{n}@acme.fr\r\nRECURRENCE-ID;TZID=Europe/Paris:{moved_from}\r\n"
            f"DTSTART;TZID=Europe/Paris:202603{3 + n % 5:02d}T140000\r\nDURATION:PT30M\r\nSEQUENCE:1\r\nEND:VEVENT\r\n"
        )
    return calendar(events)


def hostile() -> bytes:
    return calendar([
        "BEGIN:VEVENT\r\nUID:minutely\r\nDTSTART:19900101T000000Z\r\nRRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:never\r\nDTSTART:20260101T000000Z\r\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:ok\r\nDTSTART:20260301T090000Z\r\nDTEND:20260301T100000Z\r\nEND:VEVENT\r\n",
    ])


def ours(data: bytes, cap: int) -> int:
    return len(parse_calendar(data, window_start=WINDOW[0], window_end=WINDOW[1], max_occurrences=cap).occurrences)


def bare(data: bytes) -> int:
    return len(recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(*WINDOW))


def timed(function, *args) -> tuple[float, int]:
    began = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    cases = {
        "ten_thousand (cap 5000)": (ten_thousand(), 5000, True),
        "ten_thousand (uncapped)": (ten_thousand(), 20000, True),
        "many_singles": (many_singles(), 20000, True),
        "many_series": (many_series(), 20000, True),
        "hostile": (hostile(), 5000, False),
    }
    report = {}
    for name, (data, cap, with_baseline) in cases.items():
        ours_times, bare_times, counts = [], [], {}
        for _ in range(options.runs):
            seconds, counts["ours"] = timed(ours, data, cap)
            ours_times.append(seconds)
            if with_baseline:
                seconds, counts["bare"] = timed(bare, data)
                bare_times.append(seconds)
        row = {"ours_s": round(statistics.median(ours_times), 4), "occurrences": counts}
        if bare_times:
            row["bare_s"] = round(statistics.median(bare_times), 4)
            row["ratio"] = round(row["ours_s"] / row["bare_s"], 2)
        report[name] = row
        print(f"{name:26} {json.dumps(row)}")
    if options.out:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
