"""`crm-agent accounts login`, `tokens` and the token part of `status`, run as a person would (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from tests.microsoft.fixtures import TOKEN_KEY, USER

ROOT = Path(__file__).resolve().parents[2]


def cli(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CRM_AGENT_DATA_DIR": str(workspace), "CRM_AGENT_CONFIG_DIR": str(workspace), "COLUMNS": "200"}
    env.pop("CRM_AGENT_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(workspace / "config.toml"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def write_config(workspace: Path, identity, graph, *, refresh_days: int = 90) -> None:
    (workspace / "config.toml").write_text(
        f"""
database = "sqlite:///{workspace / "crm.db"}"
own_domains = ["atelier-durand.fr"]

[[accounts]]
name = "bureau"
kind = "m365"
mailbox = "{USER}"
graph_url = "{graph.graph_url}"
visibility = "subject"

[accounts.oauth2]
client_id = "11111111-2222-3333-4444-555555555555"
authority = "{identity.authority}"
ca_file = "{identity.cert_path}"
token_key = "{TOKEN_KEY}"
refresh_token_days = {refresh_days}

[[accounts]]
name = "local"
kind = "maildir"
path = "{workspace}"
""",
        encoding="utf-8",
    )


def test_login_shows_the_code_on_stderr_and_stores_the_sign_in(graph_server, identity_server, tmp_workspace):
    write_config(tmp_workspace, identity_server, graph_server)
    identity_server.auto_approve = USER
    done = cli(tmp_workspace, "accounts", "login", "bureau", "--json")
    assert done.returncode == 0, done.stderr
    assert "enter the code" in done.stderr and "devicelogin" in done.stderr
    result = json.loads(done.stdout)
    assert (result["account"], result["username"], result["state"], result["days_left"]) == ("bureau", USER, "ok", 89)
    assert (tmp_workspace / "tokens" / "bureau.json").exists()
    scopes = list(identity_server.access_tokens.values())[-1].scopes
    assert "https://graph.microsoft.com/Mail.ReadBasic" in scopes  # visibility "subject": no body permission

    done = cli(tmp_workspace, "tokens")
    assert done.returncode == 0, done.stderr
    assert "bureau" in done.stdout and "device_code" in done.stdout and "ok" in done.stdout

    graph_server.mailbox.add_messages("inbox", [b"Subject: hello\r\n\r\nbody\r\n"] * 2)
    done = cli(tmp_workspace, "accounts", "test", "bureau", "--json")
    assert done.returncode == 0, done.stderr
    targets = {t["name"]: t for t in json.loads(done.stdout)["targets"]}
    assert targets["inbox"]["messages"] == 2 and targets["calendar"]["kind"] == "calendar"


def test_status_and_tokens_warn_fourteen_days_ahead(graph_server, identity_server, tmp_workspace):
    write_config(tmp_workspace, identity_server, graph_server, refresh_days=10)
    identity_server.auto_approve = USER
    assert cli(tmp_workspace, "accounts", "login", "bureau").returncode == 0
    done = cli(tmp_workspace, "tokens", "--json")
    assert done.returncode == 0
    [row] = json.loads(done.stdout)
    assert row["state"] == "expiring" and row["fix"] == "run crm-agent accounts login bureau"
    status = json.loads(cli(tmp_workspace, "status", "--json").stdout)
    bureau = next(a for a in status["accounts"] if a["name"] == "bureau")
    assert bureau["token"]["state"] == "expiring" and bureau["token"]["days_left"] == 9
    assert status["warnings"] == [f"bureau: {row['warning']} — run crm-agent accounts login bureau"]
    local = next(a for a in status["accounts"] if a["name"] == "local")
    assert "token" not in local


def test_an_account_never_signed_in_is_a_status_problem_with_the_fix(graph_server, identity_server, tmp_workspace):
    write_config(tmp_workspace, identity_server, graph_server)
    done = cli(tmp_workspace, "tokens")
    assert done.returncode == 1 and "not signed in yet — run crm-agent accounts login bureau" in done.stdout
    status = json.loads(cli(tmp_workspace, "status", "--json").stdout)
    assert "bureau: not signed in yet — run crm-agent accounts login bureau" in status["problems"]
    assert status["healthy"] is False


def test_login_refuses_an_account_without_oauth_and_explains(graph_server, identity_server, tmp_workspace):
    write_config(tmp_workspace, identity_server, graph_server)
    done = cli(tmp_workspace, "accounts", "login", "local")
    assert done.returncode == 2 and "does not sign in with OAuth2" in done.stderr and "Traceback" not in done.stderr
    done = cli(tmp_workspace, "accounts", "login", "nobody")
    assert done.returncode == 2 and "no account named 'nobody'" in done.stderr


def test_a_refused_sign_in_exits_1_with_the_reason(graph_server, identity_server, tmp_workspace):
    write_config(tmp_workspace, identity_server, graph_server)
    text = (tmp_workspace / "config.toml").read_text().replace("11111111-2222-3333-4444-555555555555", "unknown-app")
    (tmp_workspace / "config.toml").write_text(text)
    done = cli(tmp_workspace, "accounts", "login", "bureau")
    assert done.returncode == 1 and "unauthorized_client" in done.stderr and "Traceback" not in done.stderr


def test_new_key_prints_a_usable_key(tmp_workspace):
    (tmp_workspace / "config.toml").write_text("")
    done = cli(tmp_workspace, "tokens", "new-key")
    assert done.returncode == 0
    Fernet(done.stdout.strip().encode())  # raises if it is not a key
