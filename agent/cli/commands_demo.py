"""`crm-agent demo`: the bundled sample through the real pipeline, on a machine with nothing configured."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.commands_data import show_timeline
from agent.cli.render import console, emit, table


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        workspace: Annotated[Path | None, typer.Option(help="Where to build the demo (default: the XDG data dir).")] = None,
        json: Annotated[bool, typer.Option("--json")] = False,
        serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the status page over the demo's "
                                            "store at the end, until Ctrl-C.")] = True,
    ) -> None:
        """Load a sample company's mailboxes and contacts, sync them, show the result, then serve the page."""
        from agent.demo.run import default_workspace, run_demo

        result = run_demo(workspace or default_workspace())
        emit(result.as_dict(), json, lambda _: show_demo(result))
        if serve:
            from agent.cli.render import err_console
            from agent.web.server import serve_demo

            say = err_console if json else console  # --json keeps stdout a JSON document
            serve_demo(result.config, result.anchor, announce=lambda url: say.print(
                f"\nStatus page of the demo: {url}  — Ctrl-C to stop", markup=False))


def show_demo(result) -> None:
    console.print(f"Demo workspace: {result.workspace}", markup=False, style="bold")
    console.print(f"Story time (clock fixed at the sample's anchor): {result.anchor:%A %d %B %Y %H:%M %Z}", markup=False)
    c = result.contacts
    console.print(f"Contacts: {c['rows']} rows imported from contacts.csv — {c['created']} contacts, "
                  f"{c['companies_created']} companies", markup=False)
    rows = []
    for t in result.sync["targets"]:
        rows.append((f"{t['account']}/{t['target']}", t["fetched"], t["created"], t["duplicates"],
                     ", ".join(f"{k} {v}" for k, v in sorted(t["skipped"].items())) or "-"))
    console.print(table("Sync (Maildir and .ics folder connectors)", ["mailbox", "read", "new interactions", "already stored (other mailbox)", "skipped as noise"], rows))
    totals = result.status["totals"]
    console.print(f"Store: {totals['interactions']} interactions, {totals['contacts']} contacts, "
                  f"{totals['companies']} companies, {totals['skipped']} skipped items with their reasons", markup=False)
    console.print("")
    console.print("Timeline of one contact:", markup=False, style="bold")
    show_timeline(result.featured)
    if result.extra.get("meetings"):
        from agent.cli.commands_meetings import show_meetings

        console.print("")
        console.print("Julien's calendar around that week (.ics folder account, local times):", markup=False, style="bold")
        show_meetings(result.extra["meetings"])
    if result.extra.get("rules"):
        from agent.cli.commands_rules import show_demo_rules

        console.print("")
        show_demo_rules(result.extra["rules"])
    if result.extra.get("matching"):
        from agent.cli.commands_review import show_demo_matching

        console.print("")
        show_demo_matching(result.extra["matching"])
    console.print("")
    console.print("What the sample contains, and what to expect:", markup=False, style="bold")
    for line in result.expectations:
        console.print(f"  • {line}", markup=False)
    console.print("")
    console.print(f"Explore: crm-agent --config {result.config} contacts list   (or: status, interactions list, explain ID)", markup=False)
