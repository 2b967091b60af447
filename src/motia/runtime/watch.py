"""Which file changes make `motia dev` reload: the project's source, never its data.

Handlers write into the project folder (`.data/*.json`, logs, uploads, SQLite files); a
reload for each such write would reset module state in the middle of a flow. So a change
counts only when the file is one of:

- a step or stream file (by its name, so a new one counts as soon as it appears);
- a Python module the project has imported (its own helpers, not installed packages);
- a JavaScript, TypeScript or Ruby source file (what a runner's steps may import);
- a project file: `config.yml`, `motia.config.*`, `motia_config.py`, `package.json`,
  `tsconfig.json`.

Folders that hold installed packages or tools' data (`node_modules/`, virtual and conda
environments, hidden folders such as `.motia/` and `.git/`) never count.
"""

from __future__ import annotations

import sys
from pathlib import Path

from motia.settings import CONFIG_FILE
from motia.steps.discovery import SKIPPED_DIRS, is_step_file
from motia.steps.importer import ProjectSourceTest
from motia.steps.languages import runner_source_suffixes
from motia.steps.loader import LoadedProject
from motia.steps.project_config import CONFIG_NAMES
from motia.steps.project_hooks import PROJECT_HOOKS_FILE

PROJECT_FILES = frozenset(
    {
        CONFIG_FILE,
        *CONFIG_NAMES,
        PROJECT_HOOKS_FILE,
        "package.json",
        "tsconfig.json",
    }
)
RUNNER_SOURCE_SUFFIXES = runner_source_suffixes()
# Written by `motia dev` itself.
GENERATED_SUFFIXES = (".d.ts",)


class SourceWatch:
    """Decides whether a changed path is project source. `remember_imports()` after each
    load adds the Python modules the project imported; they stay watched for the session,
    so a helper whose edit broke the last load is still seen when it is fixed."""

    def __init__(self, project_dir: Path) -> None:
        self.root = project_dir.resolve()
        self._is_source = ProjectSourceTest(self.root)
        self._python_modules: set[Path] = set()

    def remember_imports(self, project: LoadedProject) -> None:
        """The Python modules a load imported, and the files where it failed (a helper
        with a syntax error was never imported, yet fixing it must reload)."""
        self._scan_modules()
        for problem in project.problems:
            if problem.file is not None and problem.file.suffix == ".py":
                self._python_modules.add((self.root / problem.file).resolve())

    def _scan_modules(self) -> None:
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            if file and file.endswith(".py") and self._is_source(module):
                self._python_modules.add(Path(file).resolve())

    def is_source(self, path: str | Path) -> bool:
        file = Path(path)
        try:
            relative = file.relative_to(self.root)
        except ValueError:
            try:
                file = file.resolve()
                relative = file.relative_to(self.root)
            except (OSError, ValueError):
                return False
        if not relative.parts:
            return False
        if len(relative.parts) == 1 and relative.name in PROJECT_FILES:
            return True
        if not self._in_source_folder(file, relative):
            return False
        name = relative.name
        if name.endswith(GENERATED_SUFFIXES):
            return False
        if is_step_file(relative):
            return True
        if name.endswith(".py"):
            resolved = file.resolve()
            if resolved not in self._python_modules:
                self._scan_modules()  # a handler may have imported it since the last load
            return resolved in self._python_modules
        return name.endswith(RUNNER_SOURCE_SUFFIXES)

    def _in_source_folder(self, file: Path, relative: Path) -> bool:
        folders = relative.parts[:-1]
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in folders):
            return False
        # Environments with other names (`env/`, `conda-env/`): ask the same test that
        # decides which modules a reload forgets.
        return not folders or self._is_source.is_source_file(file)
