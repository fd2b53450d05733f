"""`crm-agent meetings list` and the demo's calendar, through the real CLI entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app, main
from tests.meetings.support import CLIENT, calendar, vevent


@pytest.fixture
def config(tmp_path):
    agenda = tmp_path / "agenda"
    agenda.mkdir()
    (agenda / "a.ics").write_bytes(calendar(vevent("a@x.fr", "20261124T093000", "20261124T103000",
                                                   summary="[bold]Visite[/bold] Lemaire")))
    (agenda / "b.ics").write_bytes(calendar(vevent("b@x.fr", "20261130", "20261202", summary="Pose", organizer=None,
                                                   attendees=())))
    (agenda / "c.ics").write_bytes(calendar(vevent("c@x.fr", "20261203T140000", "20261203T150000", status="CANCELLED",
                                                   attendees=(("autre@client.fr", "DECLINED"),))))
    path = tmp_path / "config.toml"
    path.write_text(f'database = "sqlite:///{tmp_path / "crm.db"}"\nown_domains = ["atelier-durand.fr"]\n'
                    f'[[accounts]]\nname = "agenda"\nkind = "ics"\npath = "{agenda}"\n', encoding="utf-8")
    assert CliRunner().invoke(app, ["--config", str(path), "sync"]).exit_code == 0
    return path


def run(config, *args):
    return CliRunner().invoke(app, ["--config", str(config), *args])


def test_list_as_json_with_filters(config):
    rows = json.loads(run(config, "meetings", "list", "--json").output)
    assert [(r["subject"], r["start"], r["all_day"], r["status"]) for r in rows] == [
        ("[bold]Visite[/bold] Lemaire", "2026-11-24T09:30:00+01:00", False, "CONFIRMED"),
        ("Pose", "2026-11-30T00:00:00+01:00", True, "CONFIRMED"),
        ("Rendez-vous", "2026-12-03T14:00:00+01:00", False, "CANCELLED"),
    ]
    assert rows[0]["attendees"] == [{"address": CLIENT, "name": "", "partstat": "ACCEPTED", "internal": False,
                                     "role": "REQ-PARTICIPANT"}]
    only = json.loads(run(config, "meetings", "list", "--json", "--contact", "autre@client.fr").output)
    assert [r["identity_key"] for r in only] == ["ical:c@x.fr"]
    window = json.loads(run(config, "meetings", "list", "--json", "--since", "2026-12-01",
                            "--until", "2026-12-04").output)
    assert [r["subject"] for r in window] == ["Pose", "Rendez-vous"]  # the two-day event overlaps 1 December


def test_text_output_shows_mail_text_literally_and_flags_cancelled(config):
    result = run(config, "meetings", "list")
    assert result.exit_code == 0
    assert "[bold]" in result.output  # a subject from a calendar is never read as console markup
    assert "cancelled" in result.output and "(all day)" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "26/11/2026"], "--since: '26/11/2026' is not a date"),
    (["--since", "2026-12-04", "--until", "2026-12-01"], "must come after --since"),
    (["--contact", "pas une adresse"], "is neither a contact id nor an email address"),
])
def test_bad_options_exit_2_with_one_line(config, capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "meetings", "list", *args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_demo_syncs_the_bundled_calendar(tmp_path):
    from agent.demo.run import run_demo
    from agent.demo.sample.expectations import MAIRIE_UID, TILLEULS_SERIES_UID, UNKNOWN_ATTENDEE

    result = run_demo(tmp_path / "demo", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)).as_dict()
    calendar_target = next(t for t in result["sync"]["targets"] if t["account"] == "julien-agenda")
    assert calendar_target["status"] == "ACTIVE" and calendar_target["created"] > 0
    meetings = result["meetings"]
    series = [m for m in meetings if m["identity_key"].startswith(f"ical:{TILLEULS_SERIES_UID}#")]
    assert any(m["status"] == "CANCELLED" for m in series)
    assert any("décalé" in m["subject"] for m in series)
    mairie = next(m for m in meetings if m["identity_key"] == f"ical:{MAIRIE_UID}")
    assert len(mairie["seen_in"]) == 3  # Julien's calendar and both INBOXes' invitations: one meeting
    assert {a["address"]: a["partstat"] for a in mairie["attendees"]}["julien.petit@atelier-durand.fr"] == "ACCEPTED"
    from agent.config import load_config
    from agent.service import AgentService

    service = AgentService(load_config(Path(result["config"])))
    [acacias] = service.feature("meetings").list(contact=UNKNOWN_ATTENDEE)  # before the agenda the demo prints
    service.close()
    assert "contact" not in next(a for a in acacias["attendees"] if a["address"] == UNKNOWN_ATTENDEE)
    assert any("contact" in a for a in acacias["attendees"])  # the client beside him is linked
