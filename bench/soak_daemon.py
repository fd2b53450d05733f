"""Soak test: `crm-agent run` for a long time against a private Dovecot, with mail arriving and a server restart.

    .venv/bin/python bench/soak_daemon.py [--minutes 45] [--accounts 3] [--every 10]

Runs the daemon as the systemd unit does (`crm-agent run --log-format json`), appends a message to a random account
every ``--every`` seconds, restarts Dovecot once halfway, and samples the daemon's RSS and CPU once a minute. At the
end: every appended message is stored exactly once, the daemon is still running, and the RSS trend is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.dovecot import Dovecot  # noqa: E402
from tests.support.messages import make_message  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored(db: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return (conn.execute("SELECT count(*) FROM interaction").fetchone()[0],
                conn.execute("SELECT count(DISTINCT message_id) FROM interaction").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=45)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--every", type=float, default=10)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="crms-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    os.chmod(base, 0o755)
    db = base / "crm.db"
    rng = random.Random(7)
    with Dovecot(base / "imap") as server:
        accounts = ""
        for n in range(args.accounts):
            server.add_user(f"u{n}@example.org", "secret")
            accounts += (f'[[accounts]]\nname = "a{n}"\nkind = "imap"\nhost = "{server.host}"\nport = {server.port}\n'
                         f'security = "plain"\nusername = "u{n}@example.org"\npassword = "secret"\nfolders = ["INBOX"]\n')
        config = base / "config.toml"
        config.write_text(f'database = "sqlite:///{db}"\nown_domains = ["atelier-durand.fr"]\n'
                          f'[sync]\npoll_interval = "2m"\nbackoff_cap = "30s"\n[web]\nenabled = false\n{accounts}')
        env = {**os.environ, "CRM_AGENT_CONFIG": str(config)}
        log = (base / "daemon.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "agent", "run", "--log-format", "json"], cwd=ROOT, env=env,
                                stdout=log, stderr=log)
        start, appended, samples, restarted = time.monotonic(), 0, [], False
        next_sample = start
        try:
            while time.monotonic() - start < args.minutes * 60:
                if proc.poll() is not None:
                    raise SystemExit(f"the daemon exited with {proc.returncode}; see {base / 'daemon.log'}")
                user = f"u{rng.randrange(args.accounts)}@example.org"
                server.multiappend(user, "INBOX", [make_message(appended)])
                appended += 1
                if not restarted and time.monotonic() - start > args.minutes * 30:
                    server.restart()  # the IMAP server goes away and comes back: the daemon must recover alone
                    restarted = True
                if time.monotonic() >= next_sample:
                    samples.append((round((time.monotonic() - start) / 60, 1), rss_mib(proc.pid), cpu_seconds(proc.pid)))
                    next_sample += 60
                time.sleep(args.every)
            deadline = time.monotonic() + 120
            while stored(db)[0] < appended and time.monotonic() < deadline:
                time.sleep(1)
            total, distinct = stored(db)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    print(f"soak_daemon — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.minutes:g} min, {args.accounts} accounts, "
          f"a message every {args.every:g} s, Dovecot restarted once; daemon exit code {code}\n")
    print(f"appended {appended}, stored {total} interactions ({distinct} distinct Message-IDs)")
    print("| minute | RSS MiB | CPU s (cumulative) |\n|---|---|---|")
    for minute, rss, cpu in samples:
        print(f"| {minute} | {rss:.0f} | {cpu:.1f} |")
    if total != appended or distinct != appended:
        raise SystemExit("MISMATCH: something was lost or duplicated")


if __name__ == "__main__":
    main()
