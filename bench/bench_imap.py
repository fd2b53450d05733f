"""IMAP backfill and no-change sync benchmarks against a private Dovecot, side by side in one run.

    .venv/bin/python bench/bench_imap.py [--messages 20000] [--small 200] [--rss-small 2000]

Measures, in one run:
1. raw imaplib ``UID FETCH`` of the header fields crm-agent reads (the ceiling), msg/s;
2. crm-agent's end-to-end backfill of the same mailbox into a fresh SQLite store (list, fetch, parse, match,
   write), msg/s, in a fresh subprocess, with its peak RSS; the ratio 2/1 (target >= 0.30);
3. the no-change incremental sync of the big account and of a small one (median of 20), ratio (target <= 1.5);
4. peak RSS of the big backfill against a 10x smaller one (target <= 1.3x).
"""

from __future__ import annotations

import argparse
import atexit
import imaplib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.connectors.imap.fetching import HEADERS_ONLY  # noqa: E402
from tests.harness.dovecot import Dovecot  # noqa: E402

COMPANIES = ["acme.fr", "boulangerie-lemaire.fr", "hotel-les-tilleuls.fr", "cabinet-rousseau.fr", "sci-acacias.fr"]


def message(n: int) -> bytes:
    """~2 KB: the headers of a real B2B thread plus a plain-text body."""
    when = datetime(2025, 1, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=7 * n)
    company = COMPANIES[n % len(COMPANIES)]
    outgoing = n % 3 == 0
    client = f"contact{n % 400}@{company}"
    own = "claire.martin@atelier-durand.fr"
    sender, to = (own, client) if outgoing else (client, own)
    refs = " ".join(f"<m{k}@{COMPANIES[k % len(COMPANIES)]}>" for k in range(max(0, n - 3), n))
    head = (
        f"From: {'Claire Martin' if outgoing else 'Client ' + str(n % 400)} <{sender}>\r\n"
        f"To: <{to}>\r\nCc: Julien Petit <julien.petit@atelier-durand.fr>\r\n"
        f"Subject: Re: Devis n°{n // 4} - agencement boutique\r\nDate: {format_datetime(when)}\r\n"
        f"Message-ID: <m{n}@{company}>\r\n"
        + (f"In-Reply-To: <m{n - 1}@{COMPANIES[(n - 1) % len(COMPANIES)]}>\r\nReferences: {refs}\r\n" if n else "")
        + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        "X-Mailer: Microsoft Outlook 16.0\r\nReceived: from mx.example.net by mx.atelier-durand.fr; "
        f"{format_datetime(when)}\r\n"
    )
    body = ("Bonjour,\r\n\r\nSuite à notre échange, voici les éléments demandés pour le devis.\r\n" * 18)
    return (head + "\r\n" + body).encode("utf-8")[:2048]


def raw_fetch_rate(server: Dovecot, user: str, count: int) -> float:
    conn = imaplib.IMAP4(server.host, server.port)
    conn.login(user, server.users[user])
    conn.select("INBOX", readonly=True)
    typ, data = conn.uid("SEARCH", "ALL")
    uids = [int(x) for x in data[0].split()]
    start = time.perf_counter()
    fetched = 0
    for i in range(0, len(uids), 2000):
        chunk = uids[i : i + 2000]
        typ, data = conn.uid("FETCH", f"{chunk[0]}:{chunk[-1]}", HEADERS_ONLY)  # the very items crm-agent fetches
        fetched += sum(1 for part in data if isinstance(part, tuple))
    elapsed = time.perf_counter() - start
    conn.logout()
    assert fetched == count, (fetched, count)
    return count / elapsed


def raw_session_ms(server: Dovecot, user: str, runs: int = 20) -> float:
    """Median time of a raw imaplib session that only opens INBOX (connect, LOGIN, EXAMINE, LOGOUT): the server's
    share of a no-change sync, which opens a fresh session each time."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        conn = imaplib.IMAP4(server.host, server.port)
        conn.login(user, server.users[user])
        conn.select("INBOX", readonly=True)
        conn.logout()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


DRIVER = r"""
import json, sys, time
from agent.config import load_config
from agent.service import AgentService
service = AgentService(load_config(__import__("pathlib").Path(sys.argv[1])))
service.store  # schema created before timing
start = time.perf_counter()
result = service.sync()
elapsed = time.perf_counter() - start
runs = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); again = service.sync(); runs.append(time.perf_counter() - t)
    assert again["totals"]["created"] == 0, again
# VmHWM, not ru_maxrss: Linux carries the parent's RSS at fork into the child's ru_maxrss, across exec
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"elapsed": elapsed, "created": result["totals"]["created"], "noop_runs": runs,
                  "maxrss_kb": peak}))
"""


def run_backfill(work: Path, server: Dovecot, user: str, *, visibility: str, noop_runs: int) -> dict:
    db = work / f"{user.split('@')[0]}-{visibility}.db"
    config = work / f"{user.split('@')[0]}-{visibility}.toml"
    config.write_text(
        f'database = "sqlite:///{db}"\nown_domains = ["atelier-durand.fr"]\n'
        f'[[accounts]]\nname = "bench"\nkind = "imap"\nhost = "{server.host}"\nport = {server.port}\n'
        f'security = "plain"\nusername = "{user}"\npassword = "{server.users[user]}"\nfolders = ["INBOX"]\n'
        f'visibility = "{visibility}"\n'
    )
    done = subprocess.run([sys.executable, "-c", DRIVER, str(config), str(noop_runs)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--rss-small", type=int, default=2000)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="crmb-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    os.chmod(base, 0o755)
    atexit.register(shutil.rmtree, base, True)  # the fixture is gigabytes in /dev/shm at 100,000 messages
    with Dovecot(base / "imap") as server:
        sizes = {"big": args.messages, "small": args.small, "mid": args.rss_small}
        for name, count in sizes.items():
            server.add_user(f"{name}@example.org", "secret")
            messages = [message(n) for n in range(count)]
            for i in range(0, count, 5000):
                server.write_messages(f"{name}@example.org", "INBOX", messages[i : i + 5000])
            del messages  # keep this process lean: it is the parent of the measured ones
            server.status(f"{name}@example.org", "INBOX")  # let Dovecot index the files before timing
        raw = statistics.median(raw_fetch_rate(server, "big@example.org", args.messages) for _ in range(3))
        big = run_backfill(base, server, "big@example.org", visibility="subject", noop_runs=20)
        small = run_backfill(base, server, "small@example.org", visibility="subject", noop_runs=20)
        mid = run_backfill(base, server, "mid@example.org", visibility="subject", noop_runs=0)
        snippet = run_backfill(base, server, "big@example.org", visibility="snippet", noop_runs=0)
        examine_big = raw_session_ms(server, "big@example.org")
        examine_small = raw_session_ms(server, "small@example.org")
    ours = big["created"] / big["elapsed"]
    noop_big = statistics.median(big["noop_runs"]) * 1000
    noop_small = statistics.median(small["noop_runs"]) * 1000
    rows = [
        ("raw imaplib UID FETCH of the same items: UID, INTERNALDATE, the header fields (median of 3)", f"{raw:,.0f} msg/s", ""),
        (f"crm-agent backfill {args.messages:,} msgs → SQLite, visibility=subject", f"{ours:,.0f} msg/s",
         f"ratio {ours / raw:.2f} (target ≥ 0.30)"),
        (f"crm-agent backfill {args.messages:,} msgs, visibility=snippet (headers + first 64 KiB)",
         f"{snippet['created'] / snippet['elapsed']:,.0f} msg/s", f"ratio {snippet['created'] / snippet['elapsed'] / raw:.2f}"),
        (f"no-change sync, {args.messages:,}-msg account (median of 20)", f"{noop_big:.2f} ms", ""),
        (f"no-change sync, {args.small:,}-msg account (median of 20)", f"{noop_small:.2f} ms",
         f"ratio {noop_big / noop_small:.2f} (target ≤ 1.5)"),
        (f"raw imaplib session opening INBOX (connect, LOGIN, EXAMINE, LOGOUT), {args.messages:,} vs {args.small:,} "
         "msgs (median of 20)", f"{examine_big:.2f} vs {examine_small:.2f} ms",
         f"ratio {examine_big / examine_small:.2f}, difference {examine_big - examine_small:.2f} ms"),
        (f"peak RSS, {args.messages:,}-msg backfill", f"{big['maxrss_kb'] / 1024:.0f} MiB", ""),
        (f"peak RSS, {args.rss_small:,}-msg backfill", f"{mid['maxrss_kb'] / 1024:.0f} MiB",
         f"ratio {big['maxrss_kb'] / mid['maxrss_kb']:.2f} (target ≤ 1.3)"),
    ]
    print(f"bench_imap — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores\n")
    print("| measure | value | comparison |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
