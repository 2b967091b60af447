"""Import Python step files as proper modules of the project.

The project root goes on `sys.path` and every step file is imported under its dotted path
relative to it (`steps/orders/create_step.py` -> `steps.orders.create_step`). So relative
imports (`from ..lib import db`) and absolute ones (`from steps.lib import db`) both work
and resolve to the same module object, at any depth.

Classic Motia loaded step files by path, so their names need not be identifiers:
`03-send-email_step.py` and folders like `rag-ingestion/` import as they are (Python's path
finder matches the file name, whatever its characters), and a dot inside a file or folder
name (`reminder.job_step.py`) is written `%2E` in the module name, where
`DottedNameFinder` turns it back into the file.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

STEP_PACKAGES = ("steps", "src", "motia_config")
# Project roots this process put on sys.path (tests load many projects in one process).
_activated_roots: set[str] = set()


class StepImportError(Exception):
    """A step file could not be imported; the cause is chained. `location` is the
    (project-relative file, line) where it failed, when that is inside the project."""

    def __init__(
        self,
        message: str,
        location: tuple[Path, int] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.location = location
        self.hint = hint


def module_name_for(project_dir: Path, path: Path) -> str:
    """`steps/jobs/reminder.job_step.py` -> `steps.jobs.reminder%2Ejob_step`."""
    relative = path.relative_to(project_dir).with_suffix("")
    return ".".join(_encode_part(part) for part in relative.parts)


def _encode_part(part: str) -> str:
    return part.replace("%", "%25").replace(".", "%2E")


_ENCODED = re.compile("%(2E|25)")


def _decode_part(part: str) -> str:
    return _ENCODED.sub(lambda m: "." if m.group(1) == "2E" else "%", part)


class DottedNameFinder(importlib.abc.MetaPathFinder):
    """Finds the modules whose last name part is encoded by `module_name_for`: a file or
    folder with a dot in its name. Names without `%` are never this finder's business."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        tail = fullname.rpartition(".")[2]
        if "%" not in tail or path is None:
            return None
        name = _decode_part(tail)
        for entry in path:
            location = Path(entry) / name
            source = location.with_name(name + ".py")
            if source.is_file():
                return importlib.util.spec_from_file_location(fullname, source)
            if location.is_dir():
                init = location / "__init__.py"
                if init.is_file():
                    return importlib.util.spec_from_file_location(
                        fullname, init, submodule_search_locations=[str(location)]
                    )
                # A folder without __init__.py is a namespace package, as anywhere else.
                spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
                spec.submodule_search_locations = [str(location)]
                return spec
        return None


def _install_finder() -> None:
    if not any(isinstance(finder, DottedNameFinder) for finder in sys.meta_path):
        sys.meta_path.append(DottedNameFinder())


def activate(project_dir: Path) -> None:
    """Make `project_dir` the project that `steps.*` and `src.*` imports resolve to.

    The project root goes first on `sys.path`, and modules that another project loaded
    under the same top-level names are dropped, so two projects loaded one after the other
    in one process (tests do this) never see each other's files.
    """
    root = str(project_dir)
    # Another project's root further down sys.path could still win: Python prefers a regular
    # package (`steps/__init__.py`) anywhere on the path over a namespace package found first.
    for previous in _activated_roots - {root}:
        if previous in sys.path:
            sys.path.remove(previous)
    _activated_roots.clear()
    _activated_roots.add(root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    # Decide before deleting: a namespace package computes its path through its parent.
    stale = {
        name
        for name, module in list(sys.modules.items())
        if name.split(".", 1)[0] in STEP_PACKAGES and not _belongs_to(module, root)
    }
    for name in _with_submodules(stale):
        del sys.modules[name]
    importlib.invalidate_caches()
    _install_finder()


def _with_submodules(names: set[str]) -> list[str]:
    """The modules named and every submodule of theirs: a namespace package left behind
    without its parent breaks the next look at its `__path__`."""
    return [
        name
        for name in list(sys.modules)
        if name in names or any(name.startswith(parent + ".") for parent in names)
    ]


def _locations(module: ModuleType) -> list[str]:
    """A package's folders; a namespace package recomputes them, which fails once its parent
    is gone from sys.modules."""
    try:
        return list(getattr(module, "__path__", None) or [])
    except Exception:
        return []


def _belongs_to(module: ModuleType, root: str) -> bool:
    """Whether the module was loaded from files under `root` (a resolved path)."""
    base = Path(root)
    file = getattr(module, "__file__", None)
    if file:
        return Path(file).resolve().is_relative_to(base)
    locations = _locations(module)
    return bool(locations) and all(Path(p).resolve().is_relative_to(base) for p in locations)


def import_step_file(project_dir: Path, path: Path, *, fresh: bool = False) -> ModuleType:
    """Import one file, or return it as another step already imported it (one module object
    per file); `fresh` imports it again. Raises StepImportError naming the file."""
    name = module_name_for(project_dir, path)
    if fresh:
        sys.modules.pop(name, None)
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # the user's module raised while importing
        raise StepImportError(
            f"{type(exc).__name__}: {exc}",
            _failure_location(project_dir, exc),
        ) from exc
    loaded_from = getattr(module, "__file__", None)
    if loaded_from is not None and Path(loaded_from).resolve() != path.resolve():
        # A package folder next to the file has the same module name, and Python prefers it.
        raise StepImportError(
            f"its module name '{name}' is taken by {_rel_or_abs(project_dir, Path(loaded_from))}",
            hint="rename the file or that folder",
        )
    return module


def _rel_or_abs(project_dir: Path, path: Path) -> Path:
    resolved = path.resolve()
    root = project_dir.resolve()
    return resolved.relative_to(root) if resolved.is_relative_to(root) else resolved


def _failure_location(project_dir: Path, exc: BaseException) -> tuple[Path, int] | None:
    """The deepest frame inside the project, or the position of a syntax error."""
    root = project_dir.resolve()
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        candidates = [(exc.filename, exc.lineno)]
    else:
        candidates = [(f.filename, f.lineno or 0) for f in traceback.extract_tb(exc.__traceback__)]
    for filename, line in reversed(candidates):
        path = Path(filename).resolve()
        if path.is_relative_to(root):
            return path.relative_to(root), line
    return None


def forget_project_modules(project_dir: Path) -> None:
    """Drop every module of the project's own source, so a reload sees edited helper files
    too. Packages installed inside the project folder (`.venv/`, `venv/`, a conda env,
    `node_modules/`) stay loaded: the framework itself holds their classes."""
    root = project_dir.resolve()
    is_source = ProjectSourceTest(root)
    owned = {name for name, module in list(sys.modules.items()) if is_source(module)}
    for name in _with_submodules(owned):
        module = sys.modules.pop(name)
        _drop_bytecode(getattr(module, "__file__", None))


# Folders whose modules are installed packages, not project source, whatever their parent.
INSTALLED_PACKAGE_DIRS = frozenset(
    {"site-packages", "dist-packages", "node_modules", "python_modules", "__pypackages__"}
)
# Files that mark a folder as a Python environment (venv / virtualenv, conda).
ENVIRONMENT_MARKERS = ("pyvenv.cfg", "conda-meta")


class ProjectSourceTest:
    """Whether a module is the project's own source: loaded from a file under the project
    folder, and not from an environment or package folder inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._environments = {Path(p).resolve() for p in (sys.prefix, sys.exec_prefix)}
        self._folder_verdicts: dict[Path, bool] = {}

    def __call__(self, module: ModuleType) -> bool:
        file = getattr(module, "__file__", None)
        if file:
            return self.is_source_file(Path(file))
        locations = _locations(module)
        return bool(locations) and all(self.is_source_file(Path(p) / "x") for p in locations)

    def is_source_file(self, file: Path) -> bool:
        try:
            folder = file.resolve().parent
        except (OSError, RuntimeError):
            return False
        if not folder.is_relative_to(self.root):
            return False
        verdict = self._folder_verdicts.get(folder)
        if verdict is None:
            verdict = self._folder_verdicts[folder] = self._source_folder(folder)
        return verdict

    def _source_folder(self, folder: Path) -> bool:
        for parent in (folder, *folder.parents):
            if parent == self.root or not parent.is_relative_to(self.root):
                return True
            if parent in self._environments or parent.name in INSTALLED_PACKAGE_DIRS:
                return False
            if any((parent / marker).exists() for marker in ENVIRONMENT_MARKERS):
                return False
        return True


def _drop_bytecode(source: str | None) -> None:
    """Python trusts a cached .pyc whose source has the same size and mtime (to the second);
    an edit saved twice within a second would reload stale code without this."""
    if not source or not source.endswith(".py"):
        return
    with contextlib.suppress(OSError, ValueError):
        Path(importlib.util.cache_from_source(source)).unlink(missing_ok=True)
