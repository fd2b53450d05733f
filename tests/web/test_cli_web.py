"""`crm-agent web` and the demo's page, as real processes: they print the URL, serve, and stop cleanly on signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

URL = re.compile(r"(http://127\.0\.0\.1:\d+/)")
CLI = [sys.executable, "-m", "agent"]


def write_config(path: Path, database: Path, maildir: Path) -> Path:
    path.write_text(f'''database = "sqlite:///{database}"
own_domains = ["atelier-durand.fr"]
timezone = "Europe/Paris"

[[accounts]]
name = "claire"
kind = "maildir"
path = "{maildir}"
owner = "claire.martin@atelier-durand.fr"
''', encoding="utf-8")
    return path


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.Popen(CLI + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def read_url(stream, process: subprocess.Popen) -> tuple[str, list[str]]:
    """Lines up to the one announcing the page; the process must still be running then."""
    seen = []
    for line in stream:
        seen.append(line)
        match = URL.search(line)
        if match:
            return match.group(1), seen
    process.wait(5)
    raise AssertionError(f"no URL announced (exit {process.returncode}): {''.join(seen)}{process.stderr.read()}")


def stop(process: subprocess.Popen, sig: int) -> int:
    process.send_signal(sig)
    return process.wait(10)  # well within the 10 s a service manager allows


def test_web_read_only_serves_an_existing_store_and_exits_on_sigterm(web_world, world_db, tmp_path):
    config = write_config(tmp_path / "config.toml", world_db, web_world.maildir)
    process = start(["--config", str(config), "web", "--port", "0", "--read-only"], tmp_path)
    try:
        url, lines = read_url(process.stdout, process)
        assert "read-only" in lines[-1]
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "Devis n°42" in httpx.get(url + "interactions", timeout=10).text
        token = httpx.get(url + "api/csrf", timeout=10)
        refused = httpx.post(url + "api/tasks/1/done", cookies=token.cookies,
                             headers={"X-CSRF-Token": token.json()["csrf_token"]}, timeout=10)
        assert refused.status_code == 403
    finally:
        code = stop(process, signal.SIGTERM)
    assert code == 0, process.stderr.read()


def test_web_refuses_a_public_bind_without_token(web_world, world_db, tmp_path):
    config = write_config(tmp_path / "config.toml", world_db, web_world.maildir)
    done = subprocess.run(CLI + ["--config", str(config), "web", "--host", "0.0.0.0"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "web.bind: '0.0.0.0' is not loopback" in done.stderr and "token" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_demo_serves_its_page_until_ctrl_c(tmp_path):
    process = start(["demo", "--workspace", str(tmp_path / "demo"), "--json"], tmp_path)
    stdout: list[str] = []
    drain = threading.Thread(target=lambda: stdout.append(process.stdout.read()), daemon=True)
    drain.start()  # the JSON document may be larger than the pipe's buffer: read it while the demo serves
    try:
        url, _ = read_url(process.stderr, process)  # --json: the URL goes to stderr, stdout stays JSON
        overview = httpx.get(url + "api/overview", timeout=10).json()
        assert {a["name"] for a in overview["status"]["accounts"]} == {"claire", "julien", "julien-agenda"}
        assert overview["status"]["healthy"] is True  # the page runs on the story's clock, like the demo
        assert "Relancer" in httpx.get(url, timeout=10).text
    finally:
        code = stop(process, signal.SIGINT)
    assert code == 0
    drain.join(10)
    result = json.loads(stdout[0])
    assert result["workspace"] == str(tmp_path / "demo")


@pytest.mark.slow
def test_the_demo_without_serving_returns(tmp_path):
    done = subprocess.run(CLI + ["demo", "--workspace", str(tmp_path / "demo"), "--no-serve"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Status page" not in done.stdout + done.stderr
