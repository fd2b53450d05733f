"""`crm-agent run` against a real Dovecot: IDLE push, server loss, SIGTERM mid-backfill, one instance per store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent.config import load_config
from agent.daemon.supervisor import Daemon
from agent.store.db import Store
from agent.store.models import Interaction, Sighting, SyncTarget
from tests.support.messages import bulk

pytestmark = pytest.mark.servers
ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, dovecot, user: str, *, password: str | None = None, **sync) -> Path:
    sync_lines = "".join(f'{k} = "{v}"\n' for k, v in {"poll_interval": "10m", "backoff_cap": "1s", **sync}.items())
    path = tmp_path / "config.toml"
    path.write_text(
        f'database = "sqlite:///{tmp_path / "crm.db"}"\nown_domains = ["atelier-durand.fr"]\n[sync]\n{sync_lines}'
        f'[web]\nenabled = false\n'
        f'[[accounts]]\nname = "claire"\nkind = "imap"\nhost = "{dovecot.host}"\nport = {dovecot.port}\n'
        f'security = "plain"\nusername = "{user}"\npassword = "{password or dovecot.users[user]}"\nfolders = ["INBOX"]\n'
    )
    return path


def counts(db: Path) -> tuple[int, int]:
    store = Store(f"sqlite:///{db}")
    try:
        with store.read() as s:
            return (s.scalar(select(func.count()).select_from(Interaction)) or 0,
                    s.scalar(select(func.count()).select_from(Sighting)) or 0)
    except Exception:  # the schema may not exist yet in the first instants
        return (0, 0)
    finally:
        store.dispose()


def wait_until(predicate, timeout: float, step: float = 0.05) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def daemon_factory():
    started: list[Daemon] = []

    def make(config: Path) -> Daemon:
        daemon = Daemon(load_config(config), web=False, timer_interval=3600)
        daemon.start()
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        daemon.shutdown()


def test_a_message_appended_while_running_arrives_within_5_s_via_idle(tmp_path, dovecot, imap_user, daemon_factory):
    dovecot.multiappend(imap_user, "INBOX", bulk(3))
    daemon = daemon_factory(write_config(tmp_path, dovecot, imap_user))
    wait_until(lambda: counts(tmp_path / "crm.db")[0] == 3, 20)
    wait_until(lambda: daemon.workers[0].connector is not None and daemon.workers[0].connector._idle is not None, 10)
    dovecot.multiappend(imap_user, "INBOX", bulk(1, start=900))
    elapsed = wait_until(lambda: counts(tmp_path / "crm.db")[0] == 4, 5)
    assert elapsed < 5  # the poll interval is 10 min: only IDLE can explain it


def test_imap_server_killed_mid_sync_recovers_without_duplicates(tmp_path, dovecot, imap_user, daemon_factory):
    dovecot.write_messages(imap_user, "INBOX", bulk(3000))
    config = write_config(tmp_path, dovecot, imap_user)
    daemon = daemon_factory(config)
    wait_until(lambda: counts(tmp_path / "crm.db")[0] >= 500, 60, step=0.01)
    dovecot.kill()
    try:
        time.sleep(1.5)  # the worker notices, records a temporary failure, backs off (capped at 1 s here)
        store = Store(f"sqlite:///{tmp_path / 'crm.db'}")
        with store.read() as s:
            assert s.scalar(select(SyncTarget.status)) in ("FAILED", "ONGOING")
        store.dispose()
    finally:
        dovecot.start()
    wait_until(lambda: counts(tmp_path / "crm.db")[0] == 3000, 90, step=0.1)
    time.sleep(0.5)
    assert counts(tmp_path / "crm.db") == (3000, 3000)
    assert daemon.workers[0].is_alive()


def test_sigterm_during_backfill_exits_cleanly_and_the_next_run_resumes(tmp_path, dovecot, imap_user):
    dovecot.write_messages(imap_user, "INBOX", bulk(6000))
    config = write_config(tmp_path, dovecot, imap_user)
    env = {**os.environ, "CRM_AGENT_CONFIG": str(config)}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "run", "--no-web"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: counts(tmp_path / "crm.db")[0] >= 500, 60, step=0.01)
        proc.send_signal(signal.SIGTERM)
        start = time.monotonic()
        code = proc.wait(timeout=15)
        assert time.monotonic() - start < 10
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    assert code == 0, err
    assert "Traceback" not in err
    partial = counts(tmp_path / "crm.db")[0]
    assert 500 <= partial < 6000
    done = subprocess.run([sys.executable, "-m", "agent", "sync", "--json"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert counts(tmp_path / "crm.db") == (6000, 6000)


def test_a_second_instance_on_the_same_store_refuses_to_start(tmp_path, dovecot, imap_user, daemon_factory):
    config = write_config(tmp_path, dovecot, imap_user)
    daemon_factory(config)
    env = {**os.environ, "CRM_AGENT_CONFIG": str(config)}
    second = subprocess.run([sys.executable, "-m", "agent", "run", "--no-web"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 2
    assert "another crm-agent is already running on this store" in second.stderr
    assert "Traceback" not in second.stderr


def test_auth_failure_waits_for_the_config_fix_then_syncs(tmp_path, dovecot, imap_user, daemon_factory):
    dovecot.multiappend(imap_user, "INBOX", bulk(2))
    config = write_config(tmp_path, dovecot, imap_user, password="wrong")
    daemon = daemon_factory(config)
    wait_until(lambda: daemon.workers[0].blocked, 20)
    status = daemon.service.status()
    assert not status["healthy"] and "login refused" in status["problems"][0]
    worker = daemon.workers[0]
    passes = worker.passes
    worker.wake.set()  # even when woken, a blocked account does not log in again
    time.sleep(1.5)
    assert worker.passes >= passes and worker.blocked and worker.connector is None
    write_config(tmp_path, dovecot, imap_user)  # the fix: the daemon reloads the file by itself
    wait_until(lambda: counts(tmp_path / "crm.db")[0] == 2, 20)


def test_a_stage_left_busy_by_a_dead_process_is_reset_at_start_up(tmp_path, dovecot, imap_user):
    config = write_config(tmp_path, dovecot, imap_user)
    settings = load_config(config)
    from agent.service import AgentService

    service = AgentService(settings)
    service.sync()
    with service.store.unit_of_work() as s:
        target = s.scalar(select(SyncTarget))
        target.stage, target.status = "IMPORTING", "ONGOING"  # what a SIGKILL mid-batch leaves behind
    service.close()
    daemon = Daemon(settings, web=False)
    assert daemon.reset_stale_stages() == 1
    daemon.service.close()


def test_an_imap_restart_during_idle_neither_spins_nor_loses_mail(tmp_path, dovecot, imap_user, daemon_factory):
    dovecot.multiappend(imap_user, "INBOX", bulk(2))
    daemon = daemon_factory(write_config(tmp_path, dovecot, imap_user))
    wait_until(lambda: counts(tmp_path / "crm.db")[0] == 2, 20)
    wait_until(lambda: daemon.workers[0].connector is not None and daemon.workers[0].connector._idle is not None, 10)
    dovecot.restart()
    cpu = time.process_time()
    time.sleep(3)
    assert time.process_time() - cpu < 1.0  # a dead IDLE connection once made the worker spin at 100 % CPU
    dovecot.multiappend(imap_user, "INBOX", bulk(1, start=700))
    wait_until(lambda: counts(tmp_path / "crm.db")[0] == 3, 20)
