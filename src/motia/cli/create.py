"""`motia create NAME`: a new project from a template shipped in the package (offline)."""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import click

from motia.system_paths import SYSTEM_PREFIX

TEMPLATES = ("python", "minimal", "multi-language", "pipeline", "jobs", "auth", "ai-agent", "chat")
TEMPLATE_SUFFIX = ".tmpl"
# Names a wheel or tool would mishandle are stored without their leading dot.
RENAMED = {"gitignore": ".gitignore"}
SKIPPED = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".motia"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def template_root(template: str) -> Traversable:
    return resources.files("motia").joinpath("templates", template)


def create_project(name: str, template: str, parent: Path) -> Path:
    """Copy `template` into `parent/name`; `.tmpl` files get `{{project_name}}` filled in."""
    if template not in TEMPLATES:
        raise click.BadParameter(f"unknown template {template!r}", param_hint="--template")
    if name == ".":
        target = parent.resolve()
        name = target.name
    else:
        if not _NAME.match(name):
            raise click.BadParameter(
                "use letters, digits, '.', '_' or '-' (a folder name, not a path)",
                param_hint="NAME",
            )
        target = (parent / name).resolve()
    if target.exists():
        if not target.is_dir():
            raise click.ClickException(f"{target} exists and is not a folder")
        if any(target.iterdir()):
            raise click.ClickException(
                f"{target} is not empty; refusing to create a project there "
                "(choose another NAME or --dir, or empty the folder)"
            )
    root = template_root(template)
    if not root.is_dir():
        raise click.ClickException(f"the {template!r} template is missing from this install")
    target.mkdir(parents=True, exist_ok=True)
    _copy(root, target, {"project_name": name})
    return target


def _copy(source: Traversable, target: Path, values: dict[str, str]) -> None:
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        name = entry.name
        if name in SKIPPED or name.endswith(".pyc"):
            continue
        if entry.is_dir():
            (target / name).mkdir(exist_ok=True)
            _copy(entry, target / name, values)
            continue
        if name.endswith(TEMPLATE_SUFFIX):
            text = entry.read_text(encoding="utf-8")
            for key, value in values.items():
                text = text.replace("{{" + key + "}}", value)
            (
                target / RENAMED.get(name[: -len(TEMPLATE_SUFFIX)], name[: -len(TEMPLATE_SUFFIX)])
            ).write_text(text, encoding="utf-8")
        else:
            (target / RENAMED.get(name, name)).write_bytes(entry.read_bytes())


@click.command()
@click.argument("name")
@click.option(
    "-t",
    "--template",
    type=click.Choice(TEMPLATES),
    default="python",
    show_default=True,
    help="python: a full flow with tests; minimal: one API step; multi-language: "
    "TypeScript, Python, Ruby and JavaScript steps.",
)
@click.option(
    "-d",
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to create the project in.",
)
def create(name: str, template: str, parent: Path) -> None:
    """Create a project in a new folder NAME (or '.' for an empty current folder)."""
    target = create_project(name, template, parent)
    shown = name if name != "." else "."
    click.echo(f"created {target} from the {template!r} template\n")
    click.echo("next:")
    if shown != ".":
        click.echo(f"  cd {shown}")
    click.echo("  python3 -m venv .venv && . .venv/bin/activate")
    click.echo("  pip install -r requirements.txt   # motia-python with its test kit, and mypy")
    if template == "multi-language":
        click.echo("  npm install      # zod, esbuild, typescript; needs Node.js 18+ (and Ruby 3+)")
    if template == "pipeline":
        click.echo("  npm install      # esbuild, typescript; needs Node.js 18+")
    if template == "jobs":
        click.echo("  npm install      # zod, esbuild, typescript; needs Node.js 18+ and Ruby 3+")
    click.echo(f"  motia dev        # http://localhost:3000, API docs at {SYSTEM_PREFIX}/docs")
    click.echo("  pytest           # the project's tests")
    if template in ("multi-language", "pipeline", "jobs"):
        click.echo("  motia generate types && npx tsc --noEmit   # type-check the TypeScript steps")
