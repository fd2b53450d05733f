"""RGPD: export gives a person's data back; erase removes it for good and keeps it from being re-imported."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from agent.privacy.service import PrivacyService
from agent.store.models import Interaction, Participant, SkippedItem
from agent.store.models_crm import Contact, ContactAddress
from agent.store.models_privacy import AuditLog, Erasure
from tests.support.env import maildir_spec, make_service
from tests.support.messages import make_message

ROOT = Path(__file__).resolve().parents[2]
JEAN = "jean.dupont@acme.fr"


def build(tmp_path):
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    box.add(make_message(1, sender=JEAN, subject="Demande de devis"))
    box.add(make_message(2, sender="claire@atelier-durand.fr", to=JEAN, subject="Votre devis"))
    box.add(make_message(3, sender="claire@atelier-durand.fr", to=f"{JEAN}, paul@acme.fr", subject="Réunion chantier"))
    box.add(make_message(4, sender="paul@acme.fr", subject="Autre sujet"))
    csv = tmp_path / "c.csv"
    csv.write_text(f"nom;prénom;email;email 2;société\nDupont;Jean;{JEAN};jean@gmail.com;ACME\nMartin;Paul;paul@acme.fr;;ACME\n",
                   encoding="utf-8")
    service = make_service(tmp_path, [maildir_spec(tmp_path / "Mail")])
    service.import_contacts(csv)
    service.sync()
    return service, box


def test_export_returns_everything_about_the_person(tmp_path):
    service, _ = build(tmp_path)
    data = PrivacyService(service).export("JEAN@gmail.com")  # any of their addresses works
    assert set(data["addresses"]) == {JEAN, "jean@gmail.com"}
    assert [c["name"] for c in data["contacts"]] == ["Jean Dupont"]
    assert sorted(i["subject"] for i in data["interactions"]) == ["Demande de devis", "Réunion chantier", "Votre devis"]
    with service.store.read() as s:
        assert s.scalar(select(AuditLog.action)) == "gdpr.export"
        assert JEAN not in json.dumps(s.scalar(select(AuditLog.details))) and "@" not in s.scalar(select(AuditLog.subject))


def test_erase_removes_their_mail_and_scrubs_shared_mail(tmp_path):
    service, _ = build(tmp_path)
    result = PrivacyService(service).erase(JEAN)
    assert result["contacts"] == 1 and result["interactions_deleted"] == 2 and result["interactions_scrubbed"] == 1
    with service.store.read() as s:
        assert sorted(s.scalars(select(Interaction.subject))) == ["Autre sujet", "Réunion chantier"]
        assert s.scalar(select(func.count()).select_from(Participant).where(Participant.address.in_([JEAN, "jean@gmail.com"]))) == 0
        assert s.scalar(select(func.count()).select_from(ContactAddress).where(ContactAddress.address == "jean@gmail.com")) == 0
        assert [c for c in s.scalars(select(Contact.display_name))] == ["Paul Martin"]
        assert s.scalar(select(func.count()).select_from(Erasure)) == 2


def test_an_erased_person_is_never_re_imported(tmp_path):
    service, box = build(tmp_path)
    PrivacyService(service).erase(JEAN)
    box.add(make_message(5, sender=JEAN, subject="Je reviens vers vous"))
    box.add(make_message(6, sender="claire@atelier-durand.fr", to=f"{JEAN}, paul@acme.fr", subject="Compte rendu"))
    with service.store.unit_of_work() as s:  # a full resync re-lists everything, old mail included
        from agent.store.models import SyncTarget

        for t in s.scalars(select(SyncTarget)):
            t.cursor = ""
    service.sync()
    with service.store.read() as s:
        subjects = sorted(s.scalars(select(Interaction.subject)))
        assert subjects == ["Autre sujet", "Compte rendu", "Réunion chantier"]
        assert s.scalar(select(func.count()).select_from(Participant).where(Participant.address == JEAN)) == 0
        erased = list(s.execute(select(SkippedItem.reason, SkippedItem.subject).where(SkippedItem.reason == "erased")))
    assert len(erased) == 3 and all(subject == "" for _, subject in erased)  # two old mails and the new one


def test_cli_erase_asks_for_confirmation_and_export_writes_json(tmp_path):
    service, _ = build(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'database = "sqlite:///{tmp_path / "crm.db"}"\nown_domains = ["atelier-durand.fr"]\n')
    env = {**os.environ, "CRM_AGENT_CONFIG": str(config)}
    out = subprocess.run([sys.executable, "-m", "agent", "gdpr", "export", JEAN, "-o", str(tmp_path / "j.json")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "j.json").read_text())["contacts"][0]["last_name"] == "Dupont"
    refused = subprocess.run([sys.executable, "-m", "agent", "gdpr", "erase", JEAN], input="n\n", cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 130
    done = subprocess.run([sys.executable, "-m", "agent", "gdpr", "erase", JEAN, "--yes", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["contacts"] == 1
    bad = subprocess.run([sys.executable, "-m", "agent", "gdpr", "erase", "not-an-address", "--yes"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "is not an email address" in bad.stderr and "Traceback" not in bad.stderr
