"""Bad config and bad command-line input: one clear line naming what and where, exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "CRM_AGENT_CONFIG_DIR": str(cwd or ROOT / "nonexistent"), "CRM_AGENT_DATA_DIR": str(cwd or ROOT / "nonexistent"), **(env or {})}
    full_env.pop("CRM_AGENT_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, env=full_env, cwd=cwd or ROOT, timeout=120)


def assert_clean_failure(done: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    for needle in needles:
        assert needle in done.stderr, done.stderr


@pytest.fixture
def config(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path
    return write


def test_missing_key_names_the_key_path(config, tmp_path):
    path = config('[[accounts]]\nname = "ok"\nkind = "maildir"\npath = "/tmp"\n[[accounts]]\nname = "b"\nkind = "imap"\nusername = "u"\n')
    done = cli("--config", str(path), "config", "check", cwd=tmp_path)
    assert_clean_failure(done, 2, "accounts[1].host: missing")


def test_every_problem_is_reported_at_once(config, tmp_path):
    path = config('timezone = "Mars/Olympus"\n[sync]\nbatch_sise = 5\n[[accounts]]\nname = "x"\nkind = "pop3"\n')
    done = cli("--config", str(path), "config", "check", cwd=tmp_path)
    assert_clean_failure(done, 2, "timezone:", "sync.batch_sise: unknown key (did you mean 'batch_size'?)", "accounts[0].kind:")
    assert len([line for line in done.stderr.splitlines() if line.startswith("crm-agent:")]) == 3


def test_invalid_toml_names_the_line(config, tmp_path):
    path = config('own_domains = ["a.fr"\ntimezone = "Europe/Paris"\n')
    done = cli("--config", str(path), "status", cwd=tmp_path)
    assert_clean_failure(done, 2, "invalid TOML", "line")


def test_missing_config_file(tmp_path):
    done = cli("--config", str(tmp_path / "nope.toml"), "status", cwd=tmp_path)
    assert_clean_failure(done, 2, "config file not found")


def test_unset_secret_is_named_with_its_key(config, tmp_path):
    path = config('[[accounts]]\nname = "m"\nkind = "imap"\nhost = "h"\nusername = "u"\npassword = "env:CRM_TEST_UNSET_PW"\n')
    done = cli("--config", str(path), "config", "check", cwd=tmp_path)
    assert_clean_failure(done, 2, "accounts[0].password: environment variable CRM_TEST_UNSET_PW is not set")


def test_secrets_never_appear_in_json(config, tmp_path):
    path = config(f'database = "sqlite:///{tmp_path}/x.db"\n[[accounts]]\nname = "m"\nkind = "imap"\nhost = "h"\nusername = "u"\npassword = "hunter2-literal"\n')
    done = cli("--config", str(path), "accounts", "list", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "hunter2" not in done.stdout


def test_unknown_command_and_bad_option_exit_2(tmp_path):
    assert_clean_failure(cli("frobnicate", cwd=tmp_path), 2, "No such command")
    assert_clean_failure(cli("interactions", "list", "--limit", "zero", cwd=tmp_path), 2, "--limit")


def test_bad_date_option_is_one_line(config, tmp_path):
    path = config(f'database = "sqlite:///{tmp_path}/x.db"\n')
    done = cli("--config", str(path), "interactions", "list", "--since", "yesterday", cwd=tmp_path)
    assert_clean_failure(done, 2, "--since: 'yesterday' is not a date (YYYY-MM-DD)")


def test_bad_contacts_csv_names_each_line_and_imports_nothing(config, tmp_path):
    path = config(f'database = "sqlite:///{tmp_path}/x.db"\n')
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("nom;prénom;email\nDupont;Jean;jean@acme.fr\nMartin;Luc;pas-une-adresse\nDurand;Eve;eve@\n", encoding="utf-8")
    done = cli("--config", str(path), "contacts", "import", str(csv_file), cwd=tmp_path)
    assert_clean_failure(done, 2, "c.csv:3: 'pas-une-adresse' is not an email address", "c.csv:4:")
    listed = cli("--config", str(path), "contacts", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.strip() == "[]"


def test_unreachable_server_is_a_runtime_failure_exit_1(config, tmp_path):
    path = config(f'database = "sqlite:///{tmp_path}/x.db"\n[[accounts]]\nname = "m"\nkind = "imap"\nhost = "127.0.0.1"\nport = 1\nsecurity = "plain"\nusername = "u"\npassword = "p"\n')
    done = cli("--config", str(path), "sync", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "Connection refused" in done.stdout + done.stderr


def test_unknown_account_name(config, tmp_path):
    path = config(f'database = "sqlite:///{tmp_path}/x.db"\n')
    assert_clean_failure(cli("--config", str(path), "sync", "--account", "ghost", cwd=tmp_path), 2, "no account named 'ghost'")
