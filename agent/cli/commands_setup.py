"""Setting up: `init`, `config check`, `db upgrade`, `accounts list|test`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.render import console, emit, table
from agent.errors import UserError


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    config_app = typer.Typer(help="Check the configuration.", no_args_is_help=True)
    db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
    accounts_app = typer.Typer(help="Configured mail and calendar accounts.", no_args_is_help=True)
    app.add_typer(config_app, name="config")
    app.add_typer(db_app, name="db")
    app.add_typer(accounts_app, name="accounts")

    @app.command()
    def init(
        ctx: typer.Context,
        path: Annotated[Path | None, typer.Argument(help="Where to write the config (default: the XDG config file).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    ) -> None:
        """Write a starter config file to edit."""
        from agent.config.starter import STARTER
        from agent.paths import default_config_file

        target = path or state(ctx).config_path or default_config_file()
        if target.exists() and not force:
            raise UserError(f"{target}: already exists (use --force to overwrite)")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(STARTER, encoding="utf-8")
        console.print(f"wrote {target}; edit it, then run: crm-agent config check", markup=False)

    @config_app.command("check")
    def config_check(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Validate the config file whole, including that every secret can be read."""
        from agent.config.checks import check_settings

        settings = state(ctx).settings
        report = check_settings(settings)
        emit(report, json, lambda r: console.print(
            f"{r['source']}: {len(r['accounts'])} account(s), {r['rules']} rule(s)" + ("" if r["ok"] else "") , markup=False))
        if not report["ok"]:
            raise UserError("\n".join(report["problems"]))

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Bring the database schema to this version (SQLite files are backed up first)."""
        result = state(ctx).service.db_upgrade()

        def show(r: dict) -> None:
            if r["before"] == r["after"]:
                console.print(f"{r['database']}: schema already at {r['after']}", markup=False)
            else:
                console.print(f"{r['database']}: schema {r['before'] or '(empty)'} -> {r['after']}"
                              + (f" (backup: {r['backup']})" if r["backup"] else ""), markup=False)

        emit(result, json, show)

    @accounts_app.command("list")
    def accounts_list(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """The configured accounts (secrets shown by their source only)."""
        settings = state(ctx).settings
        data = [
            {"name": a.name, "kind": a.kind, "enabled": a.enabled, "visibility": a.visibility.value,
             "where": getattr(a, "host", None) or str(getattr(a, "path", "") or getattr(a, "url", ""))}
            for a in settings.accounts
        ]
        emit(data, json, lambda rows: console.print(table(None, ["name", "kind", "where", "visibility", "enabled"],
                                                            [(r["name"], r["kind"], r["where"], r["visibility"], r["enabled"]) for r in rows])))

    @accounts_app.command("test")
    def accounts_test(ctx: typer.Context, name: str, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Connect, list the folders or calendars to sync, and say how much there is."""
        result = state(ctx).service.test_account(name)

        def show(r: dict) -> None:
            console.print(f"{r['account']} ({r['kind']}): connected", markup=False)
            console.print(table(None, ["target", "role", "messages"],
                                [(t["name"], t["role"], t.get("messages", "")) for t in r["targets"]]))

        emit(result, json, show)
