"""Reading and feeding the CRM: `contacts list|show|import`, `interactions list`, `explain`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.commands_sync import parse_day
from agent.cli.render import ARROWS, console, emit, short_date, table


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    contacts_app = typer.Typer(help="Contacts and their timelines.", no_args_is_help=True)
    interactions_app = typer.Typer(help="Emails and meetings on the timeline.", no_args_is_help=True)
    app.add_typer(contacts_app, name="contacts")
    app.add_typer(interactions_app, name="interactions")

    @contacts_app.command("list")
    def contacts_list(
        ctx: typer.Context,
        search: Annotated[str | None, typer.Option("--search", "-s", help="Part of a name or address.")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 200,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Contacts, with their company and number of interactions."""
        rows = state(ctx).service.contacts(search=search, limit=limit)
        emit(rows, json, lambda data: console.print(table(None, ["id", "name", "email", "company", "status", "interactions"], [
            (c["id"], c["name"], (c["emails"] or [""])[0], c["company"], c["status"], c["interactions"]) for c in data])))

    @contacts_app.command("show")
    def contacts_show(
        ctx: typer.Context,
        ref: Annotated[str, typer.Argument(help="An email address or a contact id.")],
        limit: Annotated[int, typer.Option(min=1)] = 200,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """A contact's timeline: date, direction, subject, and the mailboxes it was seen in."""
        emit(state(ctx).service.contact(ref, limit=limit), json, show_timeline)

    @contacts_app.command("import")
    def contacts_import(
        ctx: typer.Context,
        path: Annotated[Path, typer.Argument(help="A .csv (French or English headers) or .vcf file.", dir_okay=False)],
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Import contacts; an invalid line stops the import and is named (nothing is written then)."""
        result = state(ctx).service.import_contacts(path)
        emit(result, json, lambda r: console.print(
            f"{r['file']}: {r['rows']} rows: {r['created']} contacts created, {r['updated']} updated, "
            f"{r['unchanged']} unchanged, {r['companies_created']} companies created, "
            f"{r['relinked']} past participants re-linked", markup=False))

    @interactions_app.command("list")
    def interactions_list(
        ctx: typer.Context,
        contact: Annotated[str | None, typer.Option(help="Address or contact id.")] = None,
        company: Annotated[str | None, typer.Option(help="Company id, domain or name.")] = None,
        since: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
        until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
        search: Annotated[str | None, typer.Option("--search", "-s", help="Words in subject or snippet.")] = None,
        kind: Annotated[str | None, typer.Option(help="email or meeting")] = None,
        limit: Annotated[int, typer.Option(min=1)] = 100,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Interactions, newest first."""
        rows = state(ctx).service.interactions(contact=contact, company=company, since=parse_day(since, "--since"),
                                               until=parse_day(until, "--until"), search=search, kind=kind, limit=limit)
        emit(rows, json, lambda data: console.print(interaction_table(data)))

    @app.command()
    def explain(
        ctx: typer.Context,
        ref: Annotated[str, typer.Argument(help="Interaction id, location (account/folder/uidvalidity/uid) or Message-ID.")],
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Why an item is stored, skipped or linked as it is."""
        emit(state(ctx).service.explain(ref), json, show_explanation)


def interaction_table(rows: list[dict]):
    return table(None, ["id", "date", "", "kind", "subject", "seen in"], [
        (i["id"], short_date(i["date"]), ARROWS.get(i["direction"], ""), i["kind"] + (" (cancelled)" if i["status"] == "CANCELLED" else ""),
         i["subject"], ", ".join(i["mailboxes"])) for i in rows])


def show_timeline(data: dict) -> None:
    contact = data["contact"]
    if contact is None:
        console.print(f"{data['address']}: not a contact (yet); where it appears:", markup=False)
    else:
        head = f"{contact['name'] or '(no name)'} <{', '.join(contact['emails'])}>"
        if contact["company"]:
            head += f" — {contact['company']}"
        if contact["status"]:
            head += f" [{contact['status']}]"
        console.print(head, markup=False, style="bold")
    console.print(interaction_table(data["timeline"]))


def show_explanation(data: dict) -> None:
    found = data["found"]
    if found != "interaction":
        console.print(f"{found}: {data['why']}", markup=False)
        return
    i = data["interaction"]
    console.print(f"interaction #{i['id']} ({i['kind']}, {i['direction']}) {short_date(i['date'])}: {i['subject']}", markup=False)
    console.print(f"  stored once under {i['identity_key']} — identity from the {data['identity']}", markup=False)
    if data["direction_reason"]:
        console.print(f"  direction {i['direction']}: {data['direction_reason']}", markup=False)
    console.print(f"  thread: {i['thread_key']}", markup=False)
    for s in data["sightings"]:
        console.print(f"  seen in {s['mailbox']} at {s['location']}", markup=False)
    for p in data["participants"]:
        line = f"  {p['role']:<9} {p['address']}"
        if "contact" in p:
            line += f" → contact #{p['contact']['id']} {p['contact']['name']} ({p['contact']['reason']}: {p['contact']['why']})"
        if "company" in p:
            line += f" → company #{p['company']['id']} {p['company']['name']} ({p['company']['reason']}: {p['company']['why']})"
        if "why" in p:
            line += f" — {p['why']}"
        console.print(line, markup=False)
    for r in data["repairs"]:
        console.print(f"  repaired while parsing: {r}", markup=False)
    for r in data.get("rules", []):
        text = (r.get("text") or ", ".join(f"{k}={v}" for k, v in r.items())) if isinstance(r, dict) else str(r)
        console.print(f"  rule: {text}", markup=False)
