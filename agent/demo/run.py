"""`crm-agent demo`: a workspace with the bundled sample, synced through the real pipeline, summarized.

The sample tells a story set at its anchor (a Friday evening); the demo moves it by whole weeks to the current
week and runs with the clock fixed at the moved anchor, so what fires and what does not is the same every day.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.clock import FakeClock
from agent.config import load_config
from agent.errors import UserError
from agent.rules.examples import LocalSinks, demo_rules_config, prepare_demo_rules, rules_story
from agent.service import AgentService

MARKER = ".crm-agent-demo"
FEATURED_CONTACT = "sophie.lemaire@boulangerie-lemaire.fr"


@dataclass
class DemoResult:
    workspace: Path
    config: Path
    anchor: datetime
    contacts: dict[str, Any]
    sync: dict[str, Any]
    status: dict[str, Any]
    featured: dict[str, Any]
    expectations: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"workspace": str(self.workspace), "config": str(self.config), "anchor": self.anchor.isoformat(),
                "contacts": self.contacts, "sync": self.sync, "status": self.status, "featured": self.featured,
                "expectations": self.expectations, **self.extra}


def default_workspace() -> Path:
    from agent.paths import data_dir

    return data_dir() / "demo"


def prepare_workspace(path: Path) -> None:
    """An empty workspace; an existing one is reset only if a previous demo made it."""
    if path.exists():
        if not (path / MARKER).exists() and any(path.iterdir()):
            raise UserError(f"{path}: exists and is not a crm-agent demo workspace; choose another --workspace")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("created by crm-agent demo; deleted and rebuilt by the next demo run\n")


def demo_config(workspace: Path, layout) -> str:
    return f'''\
# Written by `crm-agent demo`. Explore with: crm-agent --config {workspace / "config.toml"} status
database = "sqlite:///{workspace / "crm-agent.db"}"
own_domains = ["atelier-durand.fr"]
timezone = "Europe/Paris"
country = "FR"

[[accounts]]
name = "claire"
kind = "maildir"
path = "{layout.claire_maildir}"
owner = "claire.martin@atelier-durand.fr"
visibility = "snippet"

[[accounts]]
name = "julien"
kind = "maildir"
path = "{layout.julien_maildir}"
owner = "julien.petit@atelier-durand.fr"
visibility = "snippet"

[[accounts]]
name = "julien-agenda"
kind = "ics"
path = "{layout.calendar_dir}"
owner = "julien.petit@atelier-durand.fr"
visibility = "snippet"
'''


def run_demo(workspace: Path, now: datetime | None = None) -> DemoResult:
    from agent.demo.sample.expectations import what_to_expect
    from agent.demo.sample.materialize import materialize

    now = now or datetime.now(UTC)
    prepare_workspace(workspace)
    layout = materialize(workspace / "sample", now)
    if layout.anchor > now:  # keep the story in the past: the week before when this week's Friday has not come
        shutil.rmtree(workspace / "sample")
        layout = materialize(workspace / "sample", now - timedelta(weeks=1))
    config_path = workspace / "config.toml"
    with LocalSinks() as sinks:  # rule mail and webhooks go to the demo's own sinks on 127.0.0.1
        config_path.write_text(demo_config(workspace, layout) + demo_rules_config(sinks.smtp_port, sinks.webhook_url),
                               encoding="utf-8")
        settings = load_config(config_path)
        service = AgentService(settings, clock=FakeClock(layout.anchor))
        prepare_demo_rules(service)
        try:
            contacts = service.import_contacts(layout.contacts_csv)
            sync = service.sync()
            status = service.status()
            meetings = _calendar_weeks(service, layout.anchor)
            rules = rules_story(service, workspace, sinks)
            matching = _matching_story(service)
            featured = service.contact(FEATURED_CONTACT, limit=15)  # after the rules: the order made her a client
        finally:
            service.close()
    expectations = [e.text for e in what_to_expect(layout.shift_weeks)]
    return DemoResult(workspace, config_path, layout.anchor, contacts, sync, status, featured, expectations,
                      extra={"meetings": meetings, "rules": rules, "matching": matching})


def _calendar_weeks(service: AgentService, anchor: datetime) -> list[dict[str, Any]]:
    """Julien's agenda around the anchor: two weeks back, three ahead (moved, cancelled and all-day cases)."""
    meetings = service.feature("meetings")
    if meetings is None:
        return []
    day = anchor.astimezone(service.zone).date()
    return meetings.list(since=day - timedelta(weeks=2), until=day + timedelta(weeks=3))


def _matching_story(service: AgentService) -> dict[str, Any]:
    """The de-duplication scan over what the sample made (Sophie Lemaire listed twice, a contact created from a
    mistyped address), the merges it made, and the unknown addresses left for review."""
    review = service.feature("review")
    if review is None:
        return {}
    scan = review.find_duplicates()
    return {"scan": scan, "merges": review.merges(), "duplicates": review.duplicates("contact"),
            "unknown": review.unknown(limit=5)}
