"""Import Python step files as proper modules of the project.

The project root goes on `sys.path` and every step file is imported under its dotted path
relative to it (`steps/orders/create_step.py` -> `steps.orders.create_step`). So relative
imports (`from ..lib import db`) and absolute ones (`from steps.lib import db`) both work
and resolve to the same module object, at any depth.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

STEP_PACKAGES = ("steps", "src", "motia_config")
# Project roots this process put on sys.path (tests load many projects in one process).
_activated_roots: set[str] = set()


class StepImportError(Exception):
    """A step file could not be imported; the cause is chained. `location` is the
    (project-relative file, line) where it failed, when that is inside the project."""

    def __init__(self, message: str, location: tuple[Path, int] | None = None) -> None:
        super().__init__(message)
        self.location = location


def module_name_for(project_dir: Path, path: Path) -> str:
    relative = path.relative_to(project_dir).with_suffix("")
    return ".".join(relative.parts)


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
    stale = [
        name
        for name, module in list(sys.modules.items())
        if name.split(".", 1)[0] in STEP_PACKAGES and not _belongs_to(module, root)
    ]
    for name in stale:
        del sys.modules[name]
    importlib.invalidate_caches()


def _belongs_to(module: ModuleType, root: str) -> bool:
    file = getattr(module, "__file__", None)
    if file:
        return str(Path(file).resolve()).startswith(root)
    locations = list(getattr(module, "__path__", None) or [])
    return bool(locations) and all(str(Path(p).resolve()).startswith(root) for p in locations)


def import_step_file(project_dir: Path, path: Path) -> ModuleType:
    """Import (or re-import) one file; raises StepImportError naming the file."""
    name = module_name_for(project_dir, path)
    if not all(part.isidentifier() for part in name.split(".")):
        raise StepImportError(
            f"'{path.relative_to(project_dir)}' is not an importable module path: folder and "
            "file names may only use letters, digits and underscores"
        )
    sys.modules.pop(name, None)
    try:
        return importlib.import_module(name)
    except Exception as exc:  # the user's module raised while importing
        raise StepImportError(
            f"{type(exc).__name__}: {exc}", _failure_location(project_dir, exc)
        ) from exc


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
    """Drop every module loaded from the project, so a reload sees edited helper files too."""
    root = str(project_dir.resolve())
    owned = [
        name
        for name, module in list(sys.modules.items())
        if (getattr(module, "__file__", None) or getattr(module, "__path__", None))
        and _belongs_to(module, root)
    ]
    for name in owned:
        module = sys.modules.pop(name)
        _drop_bytecode(getattr(module, "__file__", None))


def _drop_bytecode(source: str | None) -> None:
    """Python trusts a cached .pyc whose source has the same size and mtime (to the second);
    an edit saved twice within a second would reload stale code without this."""
    if not source or not source.endswith(".py"):
        return
    with contextlib.suppress(OSError, ValueError):
        Path(importlib.util.cache_from_source(source)).unlink(missing_ok=True)
