"""Whether a project's npm dependencies are installed, so that a missing `npm install` is
reported as such, not as a puzzling import error inside a step."""

from __future__ import annotations

import json
import re
from pathlib import Path

from motia.errors import Problem
from motia.runners.protocol import RemoteError

PACKAGE_FIELDS = ("dependencies", "devDependencies")


def missing_dependencies(project_dir: Path) -> list[str] | None:
    """Names in package.json with no folder in node_modules; None without a package.json."""
    manifest = project_dir / "package.json"
    if not manifest.is_file():
        return None
    try:
        package = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # npm itself reports a broken package.json better than we can
    names: set[str] = set()
    for field in PACKAGE_FIELDS:
        deps = package.get(field) if isinstance(package, dict) else None
        if isinstance(deps, dict):
            names.update(str(name) for name in deps)
    modules = project_dir / "node_modules"
    return sorted(name for name in names if not (modules / name / "package.json").is_file())


def is_classic_package(name: str) -> bool:
    """The packages of classic Motia, which steps import only for types (`Handlers`,
    `ApiRouteConfig`) and motia.config.ts for `config()` and plugins: none runs here."""
    return name == "motia" or name.startswith("@motiadev/")


def missing_package(message: str) -> str | None:
    """The package an error of Node's module loader says it cannot find, or None."""
    match = re.search(r"Cannot find (?:module|package) '([^']+)'", message)
    if match is None or match.group(1).startswith((".", "/")):
        return None
    parts = match.group(1).split("/")
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def install_command(project_dir: Path) -> str:
    """What to run, in the package manager the project's lock file shows."""
    if (project_dir / "pnpm-lock.yaml").is_file():
        return "pnpm install"
    if (project_dir / "yarn.lock").is_file():
        return "yarn install"
    if (project_dir / "package-lock.json").is_file():
        return "npm ci"
    return "npm install"


def classic_and_other_missing(project_dir: Path) -> tuple[Problem | None, list[str]]:
    """The packages of package.json that are not installed: the classic Motia ones as one
    info line (every classic project lists them, steps use them only for types), and the
    others, which matter only when a file imports them (see `not_installed_problem`)."""
    missing = missing_dependencies(project_dir) or []
    classic = [name for name in missing if is_classic_package(name)]
    info = (
        Problem(
            f"{', '.join(classic)} (classic Motia, in package.json) not installed; "
            "nothing here needs them: steps import only their types",
            file=Path("package.json"),
            severity="info",
        )
        if classic
        else None
    )
    return info, [name for name in missing if not is_classic_package(name)]


def not_installed_problem(
    rel: Path, error: RemoteError, missing: list[str], project_dir: Path
) -> Problem | None:
    """A file that failed to load because it imports a listed package that is not
    installed: say so and what to run."""
    package = missing_package(error.message)
    if package is None or package not in missing:
        return None
    return Problem(
        f"could not be loaded: it imports '{package}', which is in package.json but not installed",
        file=rel,
        line=error.line,
        hint=f"run `{install_command(project_dir)}` in {project_dir}",
    )
