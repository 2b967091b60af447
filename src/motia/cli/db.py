"""`motia db migrate`: bring the project's PostgreSQL schema to this version's tables.

Servers migrate the schema themselves when they start; operators who run migrations as a
separate deployment step (before rolling out new servers) run this instead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from motia.adapters.factory import backend_class
from motia.errors import MotiaError
from motia.settings import load_settings


@click.group()
def db() -> None:
    """The project's PostgreSQL database (database.url / MOTIA_DATABASE_URL)."""


@db.command()
@click.option(
    "-d",
    "--dir",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project folder.",
)
def migrate(project_dir: Path) -> None:
    """Create or migrate the tables in the configured schema (database.schema)."""
    settings = load_settings(project_dir, "start", workbench_enabled=False)
    if settings.database_url is None:
        raise MotiaError(
            "no PostgreSQL database is configured: set MOTIA_DATABASE_URL (or database.url "
            "in config.yml)"
        )
    backend_class("postgres")  # a missing extra: the install hint
    from motia.adapters.postgres.database import PostgresDatabase
    from motia.adapters.postgres.migrations import LATEST, migrate_database

    database = PostgresDatabase(settings.database_url, settings.database_schema)
    applied = asyncio.run(migrate_database(database))
    where = f"schema {database.schema!r} at {database.location}"
    if applied:
        versions = ", ".join(str(v) for v in applied)
        click.echo(f"{where}: applied migration(s) {versions}; now at version {LATEST}")
    else:
        click.echo(f"{where}: already at version {LATEST}")
