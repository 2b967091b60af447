"""`motia docker setup|build|run`: write the project's container files, then build and
run the image with the docker CLI (or the one MOTIA_DOCKER names, such as podman)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click

from motia.cli.docker.compose import STORES, render_compose
from motia.cli.docker.dockerfile import (
    DATA_DIR,
    DEFAULT_PORT,
    MOTIA_REQUIREMENT,
    render_dockerfile,
    render_dockerignore,
)
from motia.cli.docker.needs import (
    NPM_LOCK,
    PACKAGE_JSON,
    ProjectNeeds,
    other_lock_file,
    project_needs,
)
from motia.cli.options import project_dir_option

DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"
COMPOSE_FILE = "compose.yaml"
DOCKER_ENV = "MOTIA_DOCKER"
ENV_FILE = ".env"

name_option = click.option(
    "-n",
    "--project-name",
    "name",
    default=None,
    help="Image name (default: the project folder's name, in lower case).",
)


@click.group()
def docker() -> None:
    """A container image of the project: `setup` writes the files, `build` and `run` use
    the docker CLI."""


@docker.command()
@project_dir_option
@name_option
@click.option(
    "--store",
    type=click.Choice(STORES),
    default="redis",
    show_default=True,
    help="What compose.yaml runs the app on: Redis or PostgreSQL beside it (scale-out), "
    "or the embedded SQLite file on a volume.",
)
@click.option("-f", "--force", is_flag=True, help="Replace files that exist.")
def setup(project_dir: Path, name: str | None, store: str, force: bool) -> None:
    """Write Dockerfile, .dockerignore and compose.yaml for the project."""
    project_dir = _project(project_dir)
    image = _image_name(project_dir, name)
    needs = project_needs(project_dir)
    files = {
        DOCKERFILE: render_dockerfile(image, needs),
        DOCKERIGNORE: render_dockerignore(),
        COMPOSE_FILE: render_compose(image, store),
    }
    existing = [file for file in files if (project_dir / file).exists()]
    if existing and not force:
        raise click.ClickException(
            f"{', '.join(existing)} already in {project_dir}; nothing written "
            "(--force replaces them)"
        )
    for file, text in files.items():
        (project_dir / file).write_text(text, encoding="utf-8")
    click.echo(f"wrote {', '.join(files)} in {project_dir}")
    click.echo(f"runtimes: {', '.join(needs.runtimes())}")
    for runner, paths in sorted(needs.runner_files.items()):
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        click.echo(f"  {_RUNNER_LABELS[runner]} for {shown}")
    for warning in _warnings(project_dir, needs):
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"next: motia docker build -d {_shown(project_dir)}   or   docker compose up --build"
    )


_RUNNER_LABELS = {"node": "Node.js", "ruby": "Ruby"}


def _warnings(project_dir: Path, needs: ProjectNeeds) -> list[str]:
    warnings: list[str] = []
    if needs.npm_ci and not needs.npm_lock:
        other = other_lock_file(project_dir)
        warnings.append(
            f"{PACKAGE_JSON} has no {NPM_LOCK}, and the image installs npm packages with "
            f"`npm ci`: run `npm install` to write it"
            + (f" ({other} is not read by npm)" if other else "")
        )
    if needs.python_deps is None:
        warnings.append(
            "no requirements.txt, and no pyproject.toml with a [project] table: the image "
            f"installs only {MOTIA_REQUIREMENT}"
        )
    return warnings


@docker.command()
@project_dir_option
@name_option
def build(project_dir: Path, name: str | None) -> None:
    """Build the image with `docker build` (after `motia docker setup`)."""
    project_dir = _project(project_dir)
    _build(_docker(), project_dir, _image_name(project_dir, name))


@docker.command()
@project_dir_option
@name_option
@click.option(
    "-p",
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port on this machine.",
)
@click.option("-s", "--skip-build", is_flag=True, help="Run the image built before.")
def run(project_dir: Path, name: str | None, port: int, skip_build: bool) -> None:
    """Build the image, then run it with `docker run`: the port published, the data on a
    named volume, and the project's .env file as its environment when there is one."""
    project_dir = _project(project_dir)
    image = _image_name(project_dir, name)
    binary = _docker()
    if not skip_build:
        _build(binary, project_dir, image)
    command = [binary, "run", "--rm", "-p", f"{port}:{DEFAULT_PORT}"]
    command += ["-v", f"{image}-data:{DATA_DIR}"]
    if (project_dir / ENV_FILE).is_file():
        command += ["--env-file", str(project_dir / ENV_FILE)]
    _run([*command, image], "docker run")


def _build(binary: str, project_dir: Path, image: str) -> None:
    if not (project_dir / DOCKERFILE).is_file():
        raise click.ClickException(
            f"no {DOCKERFILE} in {project_dir}: run `motia docker setup` first"
        )
    _run([binary, "build", "-t", image, str(project_dir)], "docker build")


def _docker() -> str:
    """The docker CLI: the one MOTIA_DOCKER names, else `docker` on PATH."""
    named = os.environ.get(DOCKER_ENV)
    wanted = named or "docker"
    found = shutil.which(wanted)
    if found is None:
        where = (
            f"{DOCKER_ENV}={named} is not a program on PATH"
            if named
            else ("`docker` was not found on PATH")
        )
        raise click.ClickException(
            f"{where}: install Docker (https://docs.docker.com/get-docker/), or set "
            f"{DOCKER_ENV} to another compatible CLI such as podman. `motia docker setup` "
            "needs neither."
        )
    return found


def _run(command: list[str], what: str) -> None:
    click.echo(f"$ {' '.join(command)}", err=True)
    code = subprocess.run(command, check=False).returncode
    if code != 0:
        click.echo(f"error: {what} failed (exit {code})", err=True)
        sys.exit(code)


def _project(project_dir: Path) -> Path:
    project_dir = project_dir.resolve()
    if not project_dir.is_dir():
        raise click.ClickException(f"project folder {project_dir} does not exist")
    return project_dir


def _image_name(project_dir: Path, name: str | None) -> str:
    """A name docker accepts for an image and compose for a project."""
    if name is not None:
        if not _IMAGE_NAME.fullmatch(name):
            raise click.BadParameter(
                "use lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
                param_hint="--project-name",
            )
        return name
    cleaned = re.sub(r"[^a-z0-9_.-]+", "-", project_dir.name.lower()).strip("-_.")
    return cleaned or "motia-app"


_IMAGE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)
