"""/metrics speaks the Prometheus text format and reports what the store holds."""

from __future__ import annotations

import re

from agent.web.metrics import Exposition, escape_label
from tests.web.conftest import csrf_of

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>[-+]?[0-9.eE+-]+|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    """A strict reader of the exposition format: every family typed before its samples, every line well-formed."""
    types: dict[str, str] = {}
    samples = []
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, f"{name} typed twice"
            types[name] = kind
            continue
        match = SAMPLE.match(line)
        assert match, f"malformed sample line: {line!r}"
        name = match["name"]
        assert name in types, f"{name} has no TYPE line before its samples"
        labels = dict(LABEL.findall(match["labels"] or ""))
        samples.append((name, labels, float(match["value"])))
    return types, samples


def value(samples, name: str, **labels: str) -> float:
    found = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {found}"
    return found[0]


def test_metrics_report_sync_rules_and_store(local):
    response = local.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    types, samples = parse(response.text)
    assert types["crm_agent_items_synced_total"] == "counter" and types["crm_agent_target_lag_seconds"] == "gauge"
    assert value(samples, "crm_agent_items_synced_total", account="claire", target="INBOX") == 9
    assert value(samples, "crm_agent_items_synced_total", account="claire", target="Sent") == 2
    assert value(samples, "crm_agent_target_status", account="claire", target="INBOX", status="ACTIVE") == 1
    assert value(samples, "crm_agent_target_status", account="claire", target="INBOX", status="FAILED") == 0
    assert value(samples, "crm_agent_target_error", account="claire", target="INBOX") == 0
    assert value(samples, "crm_agent_target_lag_seconds", account="claire", target="INBOX") == 300
    assert value(samples, "crm_agent_timers", status="fired") == 2
    assert value(samples, "crm_agent_timers", status="pending") == 0
    assert value(samples, "crm_agent_tasks_open") == 2
    assert value(samples, "crm_agent_interactions", kind="email") == 11
    assert value(samples, "crm_agent_healthy") == 1


def test_metrics_follow_changes(local, service):
    from agent.pipeline import sync_state
    from agent.store.models import SyncTarget

    local.post("/api/tasks/1/done", headers={"X-CSRF-Token": csrf_of(local)})
    with service.store.unit_of_work() as session:
        target = session.query(SyncTarget).filter_by(name="Sent").one()
        sync_state.temporary_failure(target, service.clock.now(), "connection reset", retry_after=None,
                                     cap=service.settings.sync.backoff_cap)
    _, samples = parse(local.get("/metrics").text)
    assert value(samples, "crm_agent_tasks_open") == 1
    assert value(samples, "crm_agent_target_error", account="claire", target="Sent", kind="temporary") == 1
    assert value(samples, "crm_agent_target_consecutive_failures", account="claire", target="Sent") == 1
    assert value(samples, "crm_agent_healthy") == 0


def test_label_values_are_escaped():
    out = Exposition()
    out.add("x_total", "counter", "help", 3, target='IN"BOX\\new\nline')
    text = out.text()
    assert 'x_total{target="IN\\"BOX\\\\new\\nline"} 3' in text
    _, samples = parse(text)
    assert samples == [("x_total", {"target": 'IN\\"BOX\\\\new\\nline'}, 3.0)]
    assert escape_label("plain") == "plain"
