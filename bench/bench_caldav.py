"""CalDAV benchmark: crm-agent's full and no-change sync of a 2,000-event calendar against the raw caldav listing.

    .venv/bin/python bench/bench_caldav.py [--events 2000] [--runs 5] [--out bench/results/caldav.json]

One private Radicale (auth delay 0), one calendar written straight into its storage. Measured in one run,
alternating the two sides so a busy machine slows both alike, medians reported:

1. full: the raw ``calendar.get_objects_by_sync_token(load_objects=True)`` listing (a fresh client each time)
   against crm-agent's whole first sync of the calendar into a fresh SQLite store (discovery, sync-collection,
   calendar-multiget, iCalendar parsing and expansion, matching, writes). Target: ours <= 1.2x raw.
2. no-change: the raw sync-token call with the current token (``load_objects=True``) against crm-agent's
   ``sync`` of the unchanged calendar (discovery, one sync-collection answer with nothing in it, state writes).
   Target: ours <= 2x raw.

Before measuring, one raw listing warms Radicale's item cache (the first request after files appear parses them
all, whoever makes it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import caldav  # noqa: E402

from agent.clock import FakeClock  # noqa: E402
from tests.harness import Radicale, make_base_dir  # noqa: E402
from tests.meetings.support import PARIS_VTIMEZONE  # noqa: E402
from tests.support.env import make_service  # noqa: E402

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
COMPANIES = ["acme.fr", "boulangerie-lemaire.fr", "hotel-les-tilleuls.fr", "cabinet-rousseau.fr", "sci-acacias.fr"]


def event(n: int) -> bytes:
    """A calendar object as Thunderbird or Outlook store it: VTIMEZONE, organizer, two attendees, a description.
    One in 50 is a weekly series of 8 (EXDATE and all), the rest single meetings spread over two years."""
    start = datetime(2025, 6, 2, 8, 0) + timedelta(days=(n * 7) % 700, hours=n % 9)
    end = start + timedelta(hours=1)
    client = f"contact{n % 400}@{COMPANIES[n % len(COMPANIES)]}"
    recurring = "RRULE:FREQ=WEEKLY;COUNT=8\r\n" if n % 50 == 0 else ""
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n"
        + PARIS_VTIMEZONE.replace("\n", "\r\n") + "\r\n"
        "BEGIN:VEVENT\r\n"
        f"UID:bench-{n}@atelier-durand.fr\r\nDTSTAMP:20250101T080000Z\r\nCREATED:20250101T080000Z\r\n"
        f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}\r\nDTEND;TZID=Europe/Paris:{end:%Y%m%dT%H%M%S}\r\n"
        f"{recurring}SUMMARY:Rendez-vous chantier n°{n}\r\nLOCATION:{n % 90} rue de la République, 69002 Lyon\r\n"
        "DESCRIPTION:Relevé de cotes et point sur le devis. Merci d'apporter les plans.\r\n"
        "ORGANIZER;CN=Claire Martin:mailto:claire.martin@atelier-durand.fr\r\n"
        "ATTENDEE;CN=Claire Martin;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:claire.martin@atelier-durand.fr\r\n"
        f"ATTENDEE;CN=Client {n % 400};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:{client}\r\n"
        "SEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return text.encode("utf-8")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_full(dav: Radicale, user: str, url: str) -> tuple[float, float, int, str]:
    started, cpu0 = time.perf_counter(), cpu()
    client = caldav.DAVClient(dav.user_url(user), username=user, password=dav.users[user])
    result = client.calendar(url=url).get_objects_by_sync_token(load_objects=True, disable_fallback=True)
    count = sum(1 for _ in result)
    return time.perf_counter() - started, cpu() - cpu0, count, result.sync_token


def raw_no_change(dav: Radicale, user: str, url: str, token: str) -> float:
    client = caldav.DAVClient(dav.user_url(user), username=user, password=dav.users[user])
    calendar = client.calendar(url=url)
    calendar.get_objects_by_sync_token(token, load_objects=True, disable_fallback=True)  # authenticated session
    started = time.perf_counter()
    result = calendar.get_objects_by_sync_token(token, load_objects=True, disable_fallback=True)
    assert sum(1 for _ in result) == 0
    return time.perf_counter() - started


def ours_full(workdir: Path, dav: Radicale, user: str) -> tuple[float, float, dict, object]:
    workdir.mkdir(parents=True)
    account = {"name": "agenda", "kind": "caldav", "url": dav.user_url(user), "username": user,
               "password": dav.users[user]}
    service = make_service(workdir, [account], clock=FakeClock(NOW))
    service.store  # noqa: B018 — create the database (migrations) outside the timing
    started, cpu0 = time.perf_counter(), cpu()
    result = service.sync()
    elapsed, used = time.perf_counter() - started, cpu() - cpu0
    assert result["totals"]["failed"] == 0, result
    return elapsed, used, result["totals"], service


def ours_no_change(service) -> float:
    started = time.perf_counter()
    result = service.sync()
    elapsed = time.perf_counter() - started
    assert result["totals"]["created"] == 0 and result["targets"][0]["listed"] == 0, result
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "caldav.json")
    args = parser.parse_args()
    base = make_base_dir()
    with Radicale(base / "dav") as dav, tempfile.TemporaryDirectory(prefix="crm-bench-caldav-") as tmp:
        dav.add_user("bench", "bench-secret")
        started = time.perf_counter()
        dav.write_ics_files("bench", "agenda", {f"event-{n:05d}.ics": event(n) for n in range(args.events)},
                            displayname="Agenda")
        written = time.perf_counter() - started
        url = dav.user_url("bench") + "agenda/"
        warm, _, count, token = raw_full(dav, "bench", url)
        assert count == args.events, count
        raw_times, raw_cpu, our_times, our_cpu, raw_idle, our_idle = [], [], [], [], [], []
        totals = {}
        for run in range(args.runs):
            seconds, used, _, token = raw_full(dav, "bench", url)
            raw_times.append(seconds)
            raw_cpu.append(used)
            seconds, used, totals, service = ours_full(Path(tmp) / f"run{run}", dav, "bench")
            our_times.append(seconds)
            our_cpu.append(used)
            for _ in range(3):
                raw_idle.append(raw_no_change(dav, "bench", url, token))
                our_idle.append(ours_no_change(service))
            service.close()
    full_raw, full_ours = statistics.median(raw_times), statistics.median(our_times)
    idle_raw, idle_ours = statistics.median(raw_idle), statistics.median(our_idle)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "events": args.events, "runs": args.runs,
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "fixture_write_s": round(written, 3), "warm_up_listing_s": round(warm, 3),
        "full": {"raw_s": round(full_raw, 3), "ours_s": round(full_ours, 3), "ratio": round(full_ours / full_raw, 3),
                 "raw_cpu_s": round(statistics.median(raw_cpu), 3), "ours_cpu_s": round(statistics.median(our_cpu), 3),
                 "raw_all": [round(t, 3) for t in raw_times], "ours_all": [round(t, 3) for t in our_times],
                 "interactions_created": totals.get("created")},
        "no_change": {"raw_ms": round(idle_raw * 1000, 1), "ours_ms": round(idle_ours * 1000, 1),
                      "ratio": round(idle_ours / idle_raw, 3)},
        "targets": {"full_ratio_max": 1.2, "no_change_ratio_max": 2.0},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
