"""The CLI commands of the base issue, run as real processes: init, accounts test, db upgrade, contacts, interactions."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.messages import make_message

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, config: Path | None = None, env: dict | None = None, cwd: Path | None = None, input: str | None = None):
    full = {**os.environ, **(env or {})}
    if config is not None:
        full["CRM_AGENT_CONFIG"] = str(config)
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, env=full,
                          cwd=cwd or ROOT, timeout=120, input=input)


def test_init_writes_a_starter_that_checks_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "conf" / "config.toml"
    done = run("init", str(target))
    assert done.returncode == 0 and target.exists()
    again = run("init", str(target))
    assert again.returncode == 2 and "already exists" in again.stderr
    check = run("--config", str(target), "config", "check", env={"CRM_IMAP_PASSWORD": "x"})
    assert check.returncode == 0, check.stderr


@pytest.mark.servers
def test_accounts_test_connects_and_lists_what_would_sync(tmp_path, dovecot, imap_user):
    dovecot.multiappend(imap_user, "INBOX", [make_message(n) for n in range(3)])
    config = tmp_path / "c.toml"
    config.write_text(f'database = "sqlite:///{tmp_path}/x.db"\n[[accounts]]\nname = "m"\nkind = "imap"\n'
                      f'host = "{dovecot.host}"\nport = {dovecot.port}\nsecurity = "plain"\nusername = "{imap_user}"\n'
                      f'password = "env:TEST_IMAP_PW"\n')
    done = run("accounts", "test", "m", "--json", config=config, env={"TEST_IMAP_PW": dovecot.users[imap_user]})
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {t["name"]: t["messages"] for t in data["targets"]} == {"INBOX": 3, "Sent": 0}
    assert dovecot.users[imap_user] not in done.stdout


def test_db_upgrade_on_a_new_and_a_current_database(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'database = "sqlite:///{tmp_path}/x.db"\n')
    first = run("db", "upgrade", "--json", config=config)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["before"] is None
    second = json.loads(run("db", "upgrade", "--json", config=config).stdout)
    assert second["before"] == second["after"] and second["backup"] is None


def test_vcard_import_then_timeline_and_filters(tmp_path):
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    box.add(make_message(1, sender="marie.durand@cabinet-rousseau.fr", subject="Plans de la bibliothèque"))
    box.add(make_message(2, sender="claire.martin@atelier-durand.fr", to="marie.durand@cabinet-rousseau.fr",
                         subject="Re: Plans de la bibliothèque"))
    box.add(make_message(3, sender="autre@ailleurs.fr", subject="Sans rapport"))
    vcf = tmp_path / "contacts.vcf"
    vcf.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Marie Durand\r\nN:Durand;Marie;;;\r\nORG:Cabinet Rousseau\r\n"
                   "EMAIL;TYPE=work:marie.durand@cabinet-rousseau.fr\r\nTEL:04 78 12 34 56\r\nEND:VCARD\r\n", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(f'database = "sqlite:///{tmp_path}/x.db"\nown_domains = ["atelier-durand.fr"]\n'
                      f'[[accounts]]\nname = "local"\nkind = "maildir"\npath = "{tmp_path / "Mail"}"\n')
    imported = run("contacts", "import", str(vcf), "--json", config=config)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["created"] == 1
    assert run("sync", config=config).returncode == 0
    shown = json.loads(run("contacts", "show", "Marie.Durand@Cabinet-Rousseau.fr", "--json", config=config).stdout)
    assert shown["contact"]["company"] == "Cabinet Rousseau" and shown["contact"]["phone"] == "+33478123456"
    assert [i["direction"] for i in shown["timeline"]] == ["out", "in"]
    by_company = json.loads(run("interactions", "list", "--company", "cabinet-rousseau.fr", "--json", config=config).stdout)
    assert len(by_company) == 2
    searched = json.loads(run("interactions", "list", "--search", "rapport", "--json", config=config).stdout)
    assert [i["subject"] for i in searched] == ["Sans rapport"]
    text = run("contacts", "show", "marie.durand@cabinet-rousseau.fr", config=config)
    assert "Marie Durand" in text.stdout and "Plans de la bibliothèque" in text.stdout
