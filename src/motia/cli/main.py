"""The `motia` command."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from motia import __version__
from motia.errors import MotiaError

# Commands imported only when used: `motia start` should not pay for the others.
LAZY_COMMANDS = {
    "build": "motia.cli.build:build",
    "create": "motia.cli.create:create",
    "db": "motia.cli.db:db",
    "dlq": "motia.cli.dlq:dlq",
    "docker": "motia.cli.docker.command:docker",
    "flows": "motia.cli.listing:flows",
    "generate": "motia.cli.generate:generate",
    "routes": "motia.cli.listing:routes",
    "scheduled": "motia.cli.scheduled:scheduled",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


MAX_WORKERS = 64


class _Workers(click.ParamType[int]):
    """A number of processes, or `auto`: one per CPU core."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            count = value
        elif str(value).strip().lower() == "auto":
            count = min(os.cpu_count() or 1, MAX_WORKERS)
        else:
            try:
                count = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is neither a number of processes nor 'auto'", param, ctx)
        if not 1 <= count <= MAX_WORKERS:
            self.fail(f"{count} is not between 1 and {MAX_WORKERS} (or 'auto')", param, ctx)
        return count


def _common_server_options(func: Any) -> Any:
    options = [
        click.option(
            "-p", "--port", type=int, default=None, help="Port to listen on (default 3000)."
        ),
        click.option("-H", "--host", default=None, help="Interface to bind."),
        click.option(
            "-d",
            "--dir",
            "project_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Project folder.",
        ),
        click.option("--debug", is_flag=True, help="Verbose logging (LOG_LEVEL=debug)."),
        click.option(
            "--memory",
            is_flag=True,
            help="Keep state and queued events in memory instead of SQLite.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="motia")
def cli() -> None:
    """Motia for Python: APIs, events, cron and streams as steps."""


@cli.command()
@_common_server_options
def dev(port: int | None, host: str | None, project_dir: Path, debug: bool, memory: bool) -> None:
    """Run the project with reload on file changes and readable logs."""
    from motia.cli.serve import serve

    serve("dev", project_dir, port=port, host=host, debug=debug, memory=memory)


@cli.command()
@_common_server_options
@click.option(
    "-w",
    "--workers",
    type=_Workers(),
    metavar="N|auto",
    default="1",
    show_default=True,
    envvar="MOTIA_WORKERS",
    show_envvar=True,
    help="Processes serving the project on one port, or 'auto' for one per CPU core. They "
    "share the SQLite file, or Redis or PostgreSQL; not with --memory.",
)
def start(
    port: int | None, host: str | None, project_dir: Path, debug: bool, memory: bool, workers: int
) -> None:
    """Run the project for production: no reload, JSON logs, refuses a project with errors."""
    from motia.cli.serve import serve

    serve("start", project_dir, port=port, host=host, debug=debug, memory=memory, workers=workers)


@cli.command()
@click.option("--topic", "-t", required=True, help="Topic to emit.")
@click.option("--message", "-m", default="{}", show_default=True, help="Event data as JSON.")
@click.option("--port", "-p", type=int, default=3000, show_default=True)
@click.option("--host", "-H", default="127.0.0.1", show_default=True)
@click.option(
    "--token",
    envvar="MOTIA_WORKBENCH_TOKEN",
    help="The server's workbench token (default: $MOTIA_WORKBENCH_TOKEN).",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    help="Deliver the event this many seconds from now (a scheduled emit).",
)
@click.option("--at", help="Deliver the event at this ISO-8601 time with a UTC offset.")
@click.option(
    "--key",
    help="A key for the scheduled emit: it replaces a pending one with the same key, and "
    "`motia scheduled cancel --key` cancels it.",
)
def emit(
    topic: str,
    message: str,
    port: int,
    host: str,
    token: str | None,
    delay: float | None,
    at: str | None,
    key: str | None,
) -> None:
    """Emit an event to a running server (POST /emit), now or later."""
    from motia.cli.emit import emit_event

    emit_event(topic, message, host, port, token, delay=delay, at=at, key=key)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MotiaError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
