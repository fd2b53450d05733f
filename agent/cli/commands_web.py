"""`crm-agent web`: the status page alone, over an existing store (read-only for a second machine)."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.render import console


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    @app.command()
    def web(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Address to bind (default: [web] bind, 127.0.0.1).")] = None,
        port: Annotated[int | None, typer.Option(min=0, max=65535,
                                                 help="Port (default: [web] port; 0 picks one).")] = None,
        read_only: Annotated[bool, typer.Option("--read-only", help="Never write to the store: no schema change, "
                                                "no task or review action (for a second machine).")] = False,
    ) -> None:
        """Serve the status page over the configured store until Ctrl-C (the daemon serves it too: `crm-agent run`)."""
        from agent.web.server import check_bind, read_only_service, serve_foreground

        settings = state(ctx).settings
        host = host or settings.web.bind
        port = settings.web.port if port is None else port
        token = settings.web.token.reveal() if settings.web.token is not None else None
        check_bind(host, token)  # before opening the store: a refused bind touches nothing
        service = read_only_service(settings) if read_only else state(ctx).service
        mode = " (read-only)" if read_only else ""
        try:
            serve_foreground(service, host=host, port=port, read_only=read_only, token=token,
                             announce=lambda url: console.print(f"Status page{mode}: {url}  — Ctrl-C to stop",
                                                                markup=False))
        finally:
            service.close()
