"""The page inside `crm-agent run`: served while the daemon syncs, showing its progress, gone with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = re.compile(r"page (http://127\.0\.0\.1:\d+/)")


def targets_active(url: str) -> bool:
    status = httpx.get(url + "api/overview", timeout=10).json()["status"]
    targets = [t for a in status["accounts"] for t in a["targets"]]
    return bool(targets) and all(t["status"] == "ACTIVE" for t in targets)


@pytest.mark.slow
def test_the_daemon_serves_the_page_while_it_syncs(web_world, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'''database = "sqlite:///{tmp_path / 'crm.db'}"
own_domains = ["atelier-durand.fr"]
[sync]
poll_interval = "10m"
[web]
port = 0
[[accounts]]
name = "claire"
kind = "maildir"
path = "{web_world.maildir}"
owner = "claire.martin@atelier-durand.fr"
''', encoding="utf-8")
    env = {**os.environ, "CRM_AGENT_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "agent", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    announced = threading.Event()

    def drain() -> None:  # read all of stderr, so the daemon never blocks on a full pipe
        for line in process.stderr:
            lines.append(line)
            if PAGE.search(line):
                announced.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        assert announced.wait(60), "the daemon never announced its page:\n" + "".join(lines)
        url = next(PAGE.search(line).group(1) for line in lines if PAGE.search(line))
        deadline = time.monotonic() + 60
        while not targets_active(url):  # the first sync of a local Maildir takes a moment
            assert time.monotonic() < deadline, "the page never showed the targets synced"
            time.sleep(0.2)
        overview = httpx.get(url + "api/overview", timeout=10).json()
        assert overview["status"]["totals"]["interactions"] == 11
        assert "claire" in httpx.get(url, timeout=10).text
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = process.wait(15)
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, "".join(lines)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "healthz", timeout=2)
