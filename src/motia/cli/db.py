"""`motia db migrate`: bring the project's PostgreSQL schema to this version's tables.

Servers migrate the schema themselves when they start; operators who run migrations as a
separate deployment step (before rolling out new servers) run this instead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from motia.adapters.factory import backend_class
from motia.cli.options import project_dir_option
from motia.clock import Clock
from motia.errors import MotiaError
from motia.settings import load_settings


@click.group()
def db() -> None:
    """The project's PostgreSQL database (database.url / MOTIA_DATABASE_URL)."""


@db.command()
@project_dir_option
def migrate(project_dir: Path) -> None:
    """Create or migrate the tables in the configured schema (database.schema)."""
    settings = load_settings(project_dir, "start", workbench_enabled=False)
    if settings.database_url is None:
        raise MotiaError(
            "no PostgreSQL database is configured: set MOTIA_DATABASE_URL (or database.url "
            "in config.yml)"
        )
    backend = backend_class("postgres")(settings, Clock())  # a missing extra: its hint

    async def run() -> str:
        try:
            return await backend.migrate()
        finally:
            await backend.close()

    click.echo(asyncio.run(run()))
