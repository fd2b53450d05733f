"""Meetings and dropped files: `meetings list`, `import PATH`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.commands_sync import parse_day
from agent.cli.render import ARROWS, console, emit, short_date, table

_ANSWERS = {"ACCEPTED": "yes", "DECLINED": "no", "TENTATIVE": "maybe", "NEEDS-ACTION": "?", "DELEGATED": "delegated"}


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    meetings_app = typer.Typer(help="Meetings from calendars and invitations.", no_args_is_help=True)
    app.add_typer(meetings_app, name="meetings")

    @meetings_app.command("list")
    def meetings_list(
        ctx: typer.Context,
        contact: Annotated[str | None, typer.Option(help="Address or contact id.")] = None,
        since: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD, local time).")] = None,
        until: Annotated[str | None, typer.Option(help="Before this day (YYYY-MM-DD, local time).")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 200,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Meetings in date order (local time), with who was invited and what they answered."""
        rows = state(ctx).service.feature("meetings").list(
            contact=contact, since=parse_day(since, "--since"), until=parse_day(until, "--until"), limit=limit)
        emit(rows, json, show_meetings)

    @app.command("import")
    def import_files(
        ctx: typer.Context,
        path: Annotated[Path, typer.Argument(help="A .eml, .mbox, .ics, .vcf or .csv file, or a folder of them.")],
        move: Annotated[bool | None, typer.Option("--move/--keep", help="Move files to processed/ and rejected/ "
                        "beside them (default: only for the configured drop folder).")] = None,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Import files once (the same bytes are never imported twice), like the watched drop folder does."""
        result = state(ctx).service.feature("meetings").import_path(path, move=move)
        emit(result, json, show_import)
        if result["totals"]["rejected"]:
            raise typer.Exit(1)


def _when(row: dict) -> str:
    if row["all_day"]:
        return (row["start"] or "")[:10] + " (all day)"
    end = short_date(row["end"])[-5:] if row["end"] else ""
    return f"{short_date(row['start'])}–{end}"


def _people(row: dict) -> str:
    out = []
    for person in row["attendees"]:
        label = person["name"] or person["address"]
        if person.get("contact"):
            label += f" (#{person['contact']['id']})"
        out.append(f"{label}: {_ANSWERS.get(person['partstat'], person['partstat'].lower() or '?')}")
    return "; ".join(out)


def show_meetings(rows: list[dict]) -> None:
    def state_of(row: dict) -> str:
        if row["removed"]:
            return "removed"
        return "cancelled" if row["status"] == "CANCELLED" else ""

    console.print(table(None, ["id", "when", "", "subject", "where", "state", "attendees (answer)"], [
        (r["id"], _when(r), ARROWS.get(r["direction"], ""), r["subject"], r["location"], state_of(r), _people(r))
        for r in rows]))
    if not rows:
        console.print("no meeting matches", markup=False)


def show_import(result: dict) -> None:
    rows = [(Path(f["file"]).name, f["status"], f["kind"], f["items"], f["reason"], f["moved_to"] or "")
            for f in result["files"]]
    console.print(table(None, ["file", "status", "kind", "items", "reason", "moved to"], rows))
    t = result["totals"]
    console.print(f"{t['imported']} imported, {t['duplicate']} already imported, {t['rejected']} rejected",
                  markup=False)
