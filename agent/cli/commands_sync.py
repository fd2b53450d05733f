"""Syncing and its state: `sync`, `status`."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agent.cli.render import ago, console, emit, table
from agent.errors import UserError


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    @app.command()
    def sync(
        ctx: typer.Context,
        account: Annotated[str | None, typer.Option("--account", "-a", help="Only this account.")] = None,
        since: Annotated[str | None, typer.Option(help="First backfill starts at this date (YYYY-MM-DD).")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be created, write nothing.")] = False,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """One sync pass over the accounts (the daemon, `crm-agent run`, does this continuously)."""
        service = state(ctx).service
        since_day = parse_day(since, "--since")
        show_progress = not json and sys.stderr.isatty()
        if show_progress:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                          console=console, transient=True) as bar:
                tasks: dict[str, int] = {}

                def progress(label: str, done: int, total: int) -> None:
                    if label not in tasks:
                        tasks[label] = bar.add_task(label, total=total)
                    bar.update(tasks[label], completed=done, total=total)

                result = service.sync(account=account, since=since_day, dry_run=dry_run, progress=progress)
        else:
            result = service.sync(account=account, since=since_day, dry_run=dry_run)
        emit(result, json, _show_sync)
        if result["totals"]["failed"]:
            raise typer.Exit(1)

    @app.command()
    def status(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Each account and folder with its state; exits 1 when one failed or lags (for cron and monitoring)."""
        result = state(ctx).service.status()
        emit(result, json, _show_status)
        if not result["healthy"]:
            raise typer.Exit(1)


def _show_sync(result: dict) -> None:
    rows = []
    for t in result["targets"]:
        skipped = sum(t["skipped"].values())
        rows.append((f"{t['account']}/{t['target']}", t["status"], t["created"], t["duplicates"], skipped, t["deleted"], t["error"]))
    title = "dry run — nothing written" if result["dry_run"] else None
    console.print(table(title, ["target", "status", "new", "already stored", "skipped", "deleted", "error"], rows))
    totals = result["totals"]
    verb = "would create" if result["dry_run"] else "created"
    console.print(f"{verb} {totals['created']} interaction(s); {totals['duplicates']} already stored; "
                  f"{totals['skipped']} skipped; {totals['failed']} target(s) failed", markup=False)


def _show_status(result: dict) -> None:
    rows = []
    for account in result["accounts"]:
        if not account["targets"]:
            rows.append((account["name"], "", "NOT_SYNCED", "", "", "", account["error"]))
        for t in account["targets"]:
            rows.append((account["name"], t["display"], t["status"], t["stage"], ago(t["lag_seconds"]),
                         t["items_synced"], t["error"]))
    console.print(table(None, ["account", "target", "status", "stage", "last success", "items", "error"], rows))
    totals = result["totals"]
    console.print(f"{totals['interactions']} interactions ({totals['emails']} emails, {totals['meetings']} meetings), "
                  f"{totals['contacts']} contacts, {totals['companies']} companies, {totals['skipped']} skipped items", markup=False)
    for problem in result["problems"]:
        console.print(f"problem: {problem}", markup=False)
    for warning in result.get("warnings", []):
        console.print(f"warning: {warning}", markup=False)


