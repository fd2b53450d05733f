"""The `crm-agent` command: global options, error handling and exit codes (0 ok, 1 runtime failure, 2 usage/config).

Commands live in agent.cli.commands_*; each is a thin shell over AgentService.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

try:  # typer >= 0.24 ships its own copy of click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as click_exc

from agent.cli.render import err_console
from agent.config import Settings, find_config_file, load_config
from agent.errors import AgentError, AuthError, UserError

app = typer.Typer(
    name="crm-agent",
    help="Capture email and meeting history into your CRM store, exactly once, and act on it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    """What the global options decided; the settings and service are loaded on first use."""

    def __init__(self, config: Path | None, verbose: int) -> None:
        self.config_path = config
        self.verbose = verbose
        self._settings: Settings | None = None
        self._service = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_config(find_config_file(self.config_path))
        return self._settings

    @property
    def service(self):
        if self._service is None:
            from agent.service import AgentService

            self._service = AgentService(self.settings)
        return self._service


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (default: $CRM_AGENT_CONFIG or the XDG config dir).", dir_okay=False)] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv for debug).")] = 0,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr,
    )
    ctx.obj = State(config, verbose)


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State) if ctx.obj is None else ctx.obj


COMMAND_MODULES = (
    "commands_setup", "commands_sync", "commands_data", "commands_demo",
    # feature command groups; each module has register(app)
    "commands_meetings", "commands_rules", "commands_review", "commands_microsoft", "commands_daemon",
    "commands_privacy", "commands_web",
)


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"agent.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"agent.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and turn every expected failure into one line on stderr and the right exit code."""
    code = 0
    try:
        result = app(args=argv, prog_name="crm-agent", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        err_console.print("crm-agent: aborted", markup=False)
        code = 130
    except click_exc.UsageError as exc:  # bad options or arguments: click's message, exit 2
        exc.show()
        code = 2
    except click_exc.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except UserError as exc:
        for line in exc.message.splitlines() or [""]:
            err_console.print(f"crm-agent: {line}", markup=False)
        code = 2
    except AuthError as exc:
        err_console.print(f"crm-agent: {exc.message}" + (f" — {exc.fix}" if exc.fix else ""), markup=False)
        code = 1
    except AgentError as exc:
        err_console.print(f"crm-agent: {exc.message}", markup=False)
        code = 1
    except KeyboardInterrupt:
        err_console.print("crm-agent: interrupted", markup=False)
        code = 130
    sys.exit(code)
