"""The rule commands through the real CLI entry point: output, --json, and exit codes (0 ok, 1 problem, 2 usage)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agent.cli.main import main
from tests.rules_engine.support import EXAMPLES, OWN, example_rules


@pytest.fixture
def setup(make_world, tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_WEBHOOK_SECRET", raising=False)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    world = make_world(example_rules(), database=db)
    sent = world.mail(f"claire@{OWN}", "jean@acme.fr", "Devis n°7 cuisine")
    world.ingest(sent, mailbox="claire/Sent")
    world.clock.advance(timedelta(days=6))
    world.rules.tick()
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{db}"\nown_domains = ["{OWN}"]\n' + EXAMPLES.read_text(encoding="utf-8"),
                      encoding="utf-8")

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(["--config", str(config), *args])
        except SystemExit as done:
            code = done.code
        out, err = capsys_ref.readouterr()
        flat = (lambda text: " ".join(text.split())) if "--json" not in args else (lambda text: text)
        return code, flat(out), flat(err)  # rich folds long lines at the terminal width

    capsys_ref = None

    def bind(capsys):
        nonlocal capsys_ref
        capsys_ref = capsys
        return run

    return world, bind


def test_rules_list_and_check(setup, capsys):
    world, bind = setup
    run = bind(capsys)
    code, out, _ = run("rules", "list", "--json")
    rules = json.loads(out)
    assert code == 0 and [r["name"] for r in rules] == [
        "relance-devis", "bienvenue-prospect", "alerte-gros-deal", "rapport-hebdo", "bon-de-commande-client"]
    assert rules[0]["timers"] == {"fired": 1} and rules[0]["after"] == "3 business days"
    code, out, _ = run("rules", "check")
    assert code == 1
    assert "problem: rules[2].do[0]: dry_run = false but [smtp] is not configured" in out
    assert "problem: rules[2].do[1].secret: environment variable CRM_WEBHOOK_SECRET is not set" in out
    assert "note: rules[1].do[0]: names the manager, but no manager address is configured" in out


def test_simulate_timers_tasks_and_deals(setup, capsys):
    world, bind = setup
    run = bind(capsys)
    code, out, _ = run("rules", "simulate", "relance-devis")
    assert code == 0 and "1 matched — would fire 1" in out and "live: timer 1 is fired" in out
    code, _, err = run("rules", "simulate", "relance")
    assert code == 2 and 'no rule named \'relance\' (did you mean "relance-devis"?)' in err
    code, out, _ = run("tasks", "list", "--open", "--json")
    (task,) = json.loads(out)
    assert code == 0 and task["title"] == "Relancer jean@acme.fr — Devis n°7 cuisine"
    code, out, _ = run("tasks", "done", str(task["id"]))
    assert code == 0 and f"task {task['id']} done" in out
    code, out, _ = run("tasks", "list", "--open", "--json")
    assert json.loads(out) == []
    code, out, _ = run("timers", "list", "--status", "fired", "--json")
    assert [t["rule"] for t in json.loads(out)] == ["relance-devis"]
    code, _, err = run("timers", "list", "--status", "done")
    assert code == 2 and "--status: 'done' is not one of pending" in err
    code, out, _ = run("deals", "list", "--json")
    assert code == 0 and json.loads(out) == []


def test_cancelling_a_timer_by_hand(setup, capsys):
    world, bind = setup
    world.ingest(world.mail(f"claire@{OWN}", "marie@bois.fr", "Devis parquet"), mailbox="claire/Sent")
    run = bind(capsys)
    code, out, _ = run("timers", "list", "--status", "pending", "--json")
    (timer,) = [t for t in json.loads(out) if t["rule"] == "relance-devis"]
    code, out, _ = run("timers", "cancel", str(timer["id"]))
    assert code == 0 and f"timer {timer['id']} (relance-devis) cancelled" in out
    code, _, err = run("timers", "cancel", str(timer["id"]))
    assert code == 2 and "is cancelled, not pending" in err
    code, out, _ = run("outbox", "list", "--json")
    assert code == 0 and json.loads(out) == []
