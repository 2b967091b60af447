"""Options that many commands share, spelled once."""

from __future__ import annotations

from pathlib import Path

import click

project_dir_option = click.option(
    "-d",
    "--dir",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project folder.",
)
