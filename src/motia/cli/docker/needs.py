"""What a project's image must hold, read from its files without loading any step: the
runtimes its step files need and where its Python and npm dependencies are declared."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from motia.errors import MotiaError
from motia.steps.discovery import discover
from motia.steps.project_config import find_project_config

REQUIREMENTS = "requirements.txt"
PYPROJECT = "pyproject.toml"
PACKAGE_JSON = "package.json"
NPM_LOCK = "package-lock.json"
OTHER_LOCKS = ("yarn.lock", "pnpm-lock.yaml")


@dataclass(frozen=True)
class ProjectNeeds:
    # Project-relative files that need each runner ("node", "ruby"); Python is always there.
    runner_files: dict[str, list[str]] = field(default_factory=dict)
    # How the Python dependencies are installed: "requirements" (requirements.txt),
    # "project" (a pyproject.toml with a [project] table) or None (only motia-python).
    python_deps: str | None = None
    package_json: bool = False
    npm_lock: bool = False

    @property
    def node(self) -> bool:
        return "node" in self.runner_files

    @property
    def ruby(self) -> bool:
        return "ruby" in self.runner_files

    @property
    def npm_ci(self) -> bool:
        """Whether the image installs npm packages: only with Node and a package.json."""
        return self.node and self.package_json

    def runtimes(self) -> list[str]:
        return ["Python", *(["Node.js"] if self.node else []), *(["Ruby"] if self.ruby else [])]


def project_needs(project_dir: Path) -> ProjectNeeds:
    found = discover(project_dir)
    runner_files: dict[str, list[str]] = {
        runner: [path.relative_to(project_dir).as_posix() for path in paths]
        for runner, paths in found.runner_files().items()
    }
    # A classic motia.config.ts is read by the Node runner (its streamAuth, its redis).
    config = find_project_config(project_dir)
    if config is not None:
        runner_files.setdefault("node", []).append(config.name)
    return ProjectNeeds(
        runner_files=runner_files,
        python_deps=_python_deps(project_dir),
        package_json=(project_dir / PACKAGE_JSON).is_file(),
        npm_lock=(project_dir / NPM_LOCK).is_file(),
    )


def _python_deps(project_dir: Path) -> str | None:
    if (project_dir / REQUIREMENTS).is_file():
        return "requirements"
    pyproject = project_dir / PYPROJECT
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise MotiaError(f"{pyproject}: cannot be read as TOML ({exc})") from exc
        if isinstance(table.get("project"), dict):
            return "project"
    return None


def other_lock_file(project_dir: Path) -> str | None:
    """A yarn or pnpm lock file, which `npm ci` does not read."""
    return next((name for name in OTHER_LOCKS if (project_dir / name).is_file()), None)
