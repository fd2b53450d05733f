"""Microsoft sign-in commands: `accounts login NAME`, `tokens` (expiry of each OAuth2 sign-in), `tokens new-key`."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.render import console, emit, err_console, short_date, table
from agent.errors import UserError


def _accounts_group(app: typer.Typer) -> typer.Typer:
    """The `accounts` group commands_setup registered (so `login` sits beside `list` and `test`)."""
    for group in app.registered_groups:
        if group.name == "accounts" and group.typer_instance is not None:
            return group.typer_instance
    accounts_app = typer.Typer(help="Configured mail and calendar accounts.", no_args_is_help=True)
    app.add_typer(accounts_app, name="accounts")
    return accounts_app


def _show_tokens(rows: list[dict]) -> None:
    if not rows:
        console.print("no account signs in with OAuth2", markup=False)
        return
    console.print(
        table(
            None,
            ["account", "flow", "user", "state", "expires", "days left", "access token until"],
            [
                (
                    r["account"],
                    r["flow"],
                    r["username"],
                    r["state"],
                    short_date(r["expires_at"]),
                    r["days_left"],
                    short_date(r["access_expires_at"]),
                )
                for r in rows
            ],
        )
    )
    for row in rows:
        if row["warning"]:
            console.print(f"{row['account']}: {row['warning']} — {row['fix']}", markup=False)


def register(app: typer.Typer) -> None:
    from agent.cli.main import state

    accounts_app = _accounts_group(app)
    tokens_app = typer.Typer(
        help="OAuth2 sign-ins (Microsoft 365, EWS, IMAP XOAUTH2): expiry and warnings.", invoke_without_command=True
    )
    app.add_typer(tokens_app, name="tokens")

    @accounts_app.command("login")
    def accounts_login(ctx: typer.Context, name: str, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Sign in to Microsoft for an account (device code: open the page shown and enter the code)."""
        auth = state(ctx).service.feature("auth")
        if auth is None:
            raise UserError("this installation has no sign-in support (agent.auth is missing)")

        def prompt(message: str) -> None:  # on stderr, so --json output stays parseable
            err_console.print(message, markup=False)

        result = auth.login(name, prompt=prompt)
        emit(
            result,
            json,
            lambda r: console.print(
                f"{r['account']}: signed in as {r['username'] or '(the app)'}; sign-in valid until "
                f"{short_date(r['expires_at']) or 'revoked or the secret expires'}",
                markup=False,
            ),
        )

    @tokens_app.callback()
    def tokens(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Each OAuth2 sign-in: state, expiry, days left (warned 14 days ahead). Exit 1 if one needs action."""
        if ctx.invoked_subcommand is not None:
            return
        auth = state(ctx).service.feature("auth")
        rows = auth.token_status() if auth is not None else []
        emit(rows, json, _show_tokens)
        if any(r["state"] in ("missing", "revoked", "expired") for r in rows):
            raise typer.Exit(1)

    @tokens_app.command("new-key")
    def new_key() -> None:
        """Print a new key for the token cache (put it in $CRM_AGENT_TOKEN_KEY or in a secret store)."""
        from cryptography.fernet import Fernet

        console.print(Fernet.generate_key().decode(), markup=False)
