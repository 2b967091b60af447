"""`motia build` and `motia generate openapi`: validate the project, then describe it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from motia.cli.options import project_dir_option
from motia.errors import SettingsError
from motia.manifest import build_manifest
from motia.openapi import DEFAULT_VERSION, build_openapi
from motia.runtime.loading import LoadedProject, load_project
from motia.settings import load_settings

MANIFEST_FILE = "motia-manifest.json"
OPENAPI_FILE = "openapi.json"


def load_checked(project_dir: Path, command: str, *, quiet_warnings: bool = False) -> LoadedProject:
    """Load the project and print its problems as `motia start` does; exit 1 on errors."""
    project_dir = project_dir.resolve()
    if not project_dir.is_dir():
        raise click.ClickException(f"project folder {project_dir} does not exist")
    settings_error: str | None = None
    try:
        load_settings(project_dir, "dev")
    except SettingsError as exc:
        settings_error = str(exc)
    project = load_project(project_dir)
    for problem in project.problems:
        if problem.is_error or not quiet_warnings:
            label = "error" if problem.is_error else problem.severity
            print(f"{label}: {problem}", file=sys.stderr)
    errors = len(project.errors)
    if settings_error is not None:
        print(f"error: {settings_error}", file=sys.stderr)
        errors += 1
    if errors:
        print(f"motia {command}: the project has {errors} error(s)", file=sys.stderr)
        sys.exit(1)
    return project


def openapi_document(
    project_dir: Path, project: LoadedProject, title: str | None, version: str
) -> dict[str, Any]:
    try:  # load_checked has reported settings that do not load
        auth_required = load_settings(project_dir, "dev").auth.required
    except SettingsError:
        auth_required = False
    return build_openapi(
        project.steps,
        title=title or project_dir.resolve().name,
        version=version,
        auth_required=auth_required,
    )


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, default=str) + "\n", encoding="utf-8")


@click.command()
@project_dir_option
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Output folder (relative to the project folder).",
)
@click.option("--title", default=None, help="OpenAPI title (default: the folder name).")
@click.option("--version", "api_version", default=DEFAULT_VERSION, show_default=True)
def build(project_dir: Path, out: Path, title: str | None, api_version: str) -> None:
    """Validate the project as `motia start` does, then write the manifest and OpenAPI."""
    project_dir = project_dir.resolve()
    project = load_checked(project_dir, "build")
    out_dir = out if out.is_absolute() else project_dir / out
    manifest = build_manifest(project_dir, project)
    write_json(out_dir / MANIFEST_FILE, manifest)
    write_json(out_dir / OPENAPI_FILE, openapi_document(project_dir, project, title, api_version))
    click.echo(
        f"built {len(project.steps)} step(s), {len(manifest['topics'])} topic(s), "
        f"{len(manifest['flows'])} flow(s), {len(project.streams)} stream(s) into "
        f"{_shown(out_dir)} ({MANIFEST_FILE}, {OPENAPI_FILE})"
    )


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@click.command("openapi")
@project_dir_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(OPENAPI_FILE),
    show_default=True,
    help="File to write ('-' for standard output).",
)
@click.option("-t", "--title", default=None, help="Document title (default: the folder name).")
@click.option(
    "-v",
    "--version",
    "api_version",
    default=DEFAULT_VERSION,
    show_default=True,
    help="Document version.",
)
def generate_openapi(project_dir: Path, output: Path, title: str | None, api_version: str) -> None:
    """Write an OpenAPI 3.1 document of the project's API steps."""
    project = load_checked(project_dir, "generate openapi", quiet_warnings=True)
    document = openapi_document(project_dir, project, title, api_version)
    if str(output) == "-":
        click.echo(json.dumps(document, indent=2, default=str))
        return
    write_json(output, document)
    click.echo(f"wrote {output} ({len(document['paths'])} path(s))")
