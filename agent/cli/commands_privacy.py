"""RGPD requests: `gdpr export ADDRESS` (a person's data back) and `gdpr erase ADDRESS` (gone, never re-imported)."""

from __future__ import annotations

import json as jsonlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.render import console, emit


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    gdpr = typer.Typer(help="RGPD: give a person's data back, or erase it.", no_args_is_help=True)
    app.add_typer(gdpr, name="gdpr")

    @gdpr.command("export")
    def export(
        ctx: typer.Context,
        address: Annotated[str, typer.Argument(help="Any address of the person.")],
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON here instead of stdout.")] = None,
    ) -> None:
        """Everything stored about a person, as JSON (contacts, interactions, tasks, deals...)."""
        from agent.privacy.service import PrivacyService

        data = PrivacyService(state(ctx).service).export(address)
        text = jsonlib.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            console.print(f"wrote {out}: {len(data['contacts'])} contact(s), {len(data['interactions'])} interaction(s)",
                          markup=False)

    @gdpr.command("erase")
    def erase(
        ctx: typer.Context,
        address: Annotated[str, typer.Argument(help="Any address of the person.")],
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
        json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Erase a person from the store for good; their future mail is skipped as 'erased'."""
        from agent.privacy.service import PrivacyService

        if not yes and not typer.confirm(f"Erase every trace of {address} from the CRM store? This cannot be undone"):
            raise typer.Abort()
        result = PrivacyService(state(ctx).service).erase(address)
        emit(result, json, lambda r: console.print(
            f"erased: {r['contacts']} contact(s), {r['interactions_deleted']} interaction(s) deleted, "
            f"{r['interactions_scrubbed']} others no longer mention them; {r['addresses']} address(es) will be "
            "skipped from now on", markup=False))
