"""The drop folder: complete files imported once (by content hash), moved to processed/; unreadable ones to rejected/
with a .reason; half-written files left alone until they settle; the watchdog loop; `crm-agent import`."""

from __future__ import annotations

import json
import mailbox
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from agent.clock import FakeClock
from agent.store.models import Interaction
from tests.meetings.support import calendar, vevent
from tests.support.env import make_service
from tests.support.messages import make_message

NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def drop(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


@pytest.fixture
def service(tmp_path, drop, clock):
    svc = make_service(tmp_path, [], clock=clock, dropfolder={"path": str(drop), "settle": "2s"})
    yield svc
    svc.close()


def interactions(service) -> int:
    with service.store.read() as session:
        return session.scalar(select(func.count()).select_from(Interaction))


def test_a_file_written_slowly_is_read_only_once_complete(service, drop, clock):
    watcher = service.feature("meetings").drop_watcher()
    message = make_message(1, subject="Commande de présentoirs", message_id="<slow-1@client.fr>")
    head, tail = message[:60], message[60:]
    path = drop / "commande.eml"
    path.write_bytes(head)
    assert watcher.scan() == []  # just appeared: wait for it to settle
    clock.advance(timedelta(seconds=3))
    with path.open("ab") as growing:
        growing.write(tail)
    assert watcher.scan() == []  # it grew meanwhile: the settle time starts again
    clock.advance(timedelta(seconds=1))
    assert watcher.scan() == []
    clock.advance(timedelta(seconds=1))
    [outcome] = watcher.scan()
    assert outcome.status == "imported" and outcome.items == 1
    assert not path.exists() and (drop / "processed" / "commande.eml").read_bytes() == message
    with service.store.read() as session:
        assert session.scalar(select(Interaction.message_id)) == "slow-1@client.fr"  # the whole file was read


def test_the_same_file_dropped_twice_is_imported_once(service, drop, clock):
    watcher = service.feature("meetings").drop_watcher()
    message = make_message(2, message_id="<twice@client.fr>")
    (drop / "a.eml").write_bytes(message)
    watcher.scan()
    clock.advance(timedelta(seconds=5))
    assert [o.status for o in watcher.scan()] == ["imported"]
    (drop / "a.eml").write_bytes(message)  # same name, same bytes
    (drop / "copie de a.eml").write_bytes(message)
    watcher.scan()
    clock.advance(timedelta(seconds=5))
    outcomes = watcher.scan()
    assert [o.status for o in outcomes] == ["duplicate", "duplicate"]
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["a-2.eml", "a.eml", "copie de a.eml"]
    assert interactions(service) == 1


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("bruit.eml", b"\x00\x01 ceci n'est pas un mail \xff", "not an email"),
    ("vide.ics", b"   \n", "the file is empty"),
    ("faux.ics", b"BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", "no event could be read"),
    ("devis.pdf", b"%PDF-1.4 ...", "unsupported file type '.pdf'"),
    ("contacts.csv", "Prénom;Nom;Email\nJean;Dupont;pas-une-adresse\n".encode(), "'pas-une-adresse' is not an email"),
])
def test_a_bad_file_goes_to_rejected_with_its_reason(service, drop, clock, name, data, reason):
    (drop / name).write_bytes(data)
    result = service.feature("meetings").import_path(drop)
    [outcome] = [f for f in result["files"] if Path(f["file"]).name == name] or [None]
    if name.endswith(".pdf"):  # a folder import takes supported files only; the watcher rejects the others
        assert outcome is None
        watcher = service.feature("meetings").drop_watcher()
        watcher.scan()
        clock.advance(timedelta(seconds=3))
        outcome = watcher.scan()[0].as_dict()
    assert outcome["status"] == "rejected" and reason in outcome["reason"]
    assert (drop / "rejected" / name).read_bytes() == data
    assert reason in (drop / "rejected" / f"{name}.reason").read_text(encoding="utf-8")
    assert not (drop / name).exists()
    assert interactions(service) == 0


def test_calendars_mailboxes_and_contacts(service, drop):
    (drop / "visite.ics").write_bytes(calendar(vevent("visite@x.fr", "20261126T100000", "20261126T110000")))
    box = mailbox.mbox(drop / "archive.mbox")
    for n in range(3):
        box.add(make_message(10 + n))
    box.close()
    (drop / "carnet.csv").write_text("Prénom;Nom;Email\nJean;Dupont;jean@dupont-menuiserie.fr\n", encoding="utf-8")
    result = service.feature("meetings").import_path(drop)
    by_name = {Path(f["file"]).name: f for f in result["files"]}
    assert {n: f["status"] for n, f in by_name.items()} == {"archive.mbox": "imported", "carnet.csv": "imported",
                                                           "visite.ics": "imported"}
    assert by_name["archive.mbox"]["items"] == 3 and by_name["archive.mbox"]["counts"]["created"] == 3
    assert result["moved"] is True  # the configured drop folder: files move away
    assert [m["identity_key"] for m in service.feature("meetings").list()] == ["ical:visite@x.fr"]
    assert [c["name"] for c in service.contacts()] == ["Jean Dupont"]


def test_a_vcard_file_imports_contacts(service, drop):
    (drop / "carnet.vcf").write_text("BEGIN:VCARD\nVERSION:3.0\nFN:Jean Dupont\nEMAIL:jean@dupont-menuiserie.fr\n"
                                     "END:VCARD\n", encoding="utf-8")
    [outcome] = service.feature("meetings").import_path(drop)["files"]
    assert outcome["status"] == "imported" and outcome["kind"] == "vcf"
    assert [c["name"] for c in service.contacts()] == ["Jean Dupont"]


def test_partial_and_hidden_files_are_left_alone(service, drop, clock):
    for name in ("devis.eml.part", "~$brouillon.eml", ".cache.eml", "telechargement.crdownload"):
        (drop / name).write_bytes(make_message(3))
    watcher = service.feature("meetings").drop_watcher()
    watcher.scan()
    clock.advance(timedelta(minutes=5))
    assert watcher.scan() == []
    assert len(list(drop.iterdir())) == 4


def test_the_watcher_wakes_on_a_new_file(tmp_path, drop):
    clock = FakeClock(NOW)
    svc = make_service(tmp_path, [], clock=clock, dropfolder={"path": str(drop), "settle": "0s"})
    done = threading.Event()
    outcomes = []
    watcher = svc.feature("meetings").drop_watcher(on_outcome=lambda o: (outcomes.append(o), done.set()))
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), kwargs={"poll": 30.0})
    thread.start()
    try:
        staged = tmp_path / "staged.eml"
        staged.write_bytes(make_message(4))
        staged.rename(drop / "nouveau.eml")  # appears complete at once, as a file manager's move does
        assert done.wait(10), "the watcher did not notice the new file"
    finally:
        stop.set()
        watcher.wake()
        thread.join(10)
    assert not thread.is_alive()
    assert [o.status for o in outcomes] == ["imported"]
    svc.close()


def test_cli_import_keeps_files_outside_the_drop_folder(tmp_path, service, drop):
    from agent.cli.main import app

    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    (elsewhere / "facture.eml").write_bytes(make_message(5))
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{service.settings.database}"\nown_domains = ["atelier-durand.fr"]\n'
                      f'[dropfolder]\npath = "{drop}"\n', encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["--config", str(config), "import", str(elsewhere / "facture.eml"), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["files"][0]["status"] == "imported"
    assert (elsewhere / "facture.eml").exists()  # not moved: it is not in the drop folder
    again = runner.invoke(app, ["--config", str(config), "import", str(elsewhere), "--json"])
    assert json.loads(again.output)["totals"] == {"imported": 0, "duplicate": 1, "rejected": 0}
    (elsewhere / "cassé.eml").write_bytes(b"rien")
    bad = runner.invoke(app, ["--config", str(config), "import", str(elsewhere / "cassé.eml"), "--move"])
    assert bad.exit_code == 1 and "rejected" in bad.output
    assert (elsewhere / "rejected" / "cassé.eml.reason").exists()
