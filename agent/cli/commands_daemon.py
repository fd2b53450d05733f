"""`crm-agent run`: the background service (accounts, timers, drop folder, web page) in one process."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    @app.command()
    def run(
        ctx: typer.Context,
        no_web: Annotated[bool, typer.Option("--no-web", help="Do not serve the status page.")] = False,
        log_format: Annotated[str, typer.Option("--log-format", help="text or json (one object per line).")] = "text",
    ) -> None:
        """Sync continuously (IMAP IDLE push, polling otherwise), fire rules, watch the drop folder, serve the page."""
        from agent.daemon import logs
        from agent.daemon.supervisor import Daemon
        from agent.errors import UserError

        if log_format not in ("text", "json"):
            raise UserError(f"--log-format: {log_format!r} is not text or json")
        settings = state(ctx).settings
        logs.setup("debug" if state(ctx).verbose > 1 else settings.log_level, log_format)
        raise typer.Exit(Daemon(settings, web=not no_web).run_forever())
