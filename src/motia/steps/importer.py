"""Import Python step files as proper modules of the project.

The project root goes on `sys.path` and every step file is imported under its dotted path
relative to it (`steps/orders/create_step.py` -> `steps.orders.create_step`). So relative
imports (`from ..lib import db`) and absolute ones (`from steps.lib import db`) both work
and resolve to the same module object, at any depth.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


class StepImportError(Exception):
    """A step file could not be imported; the cause is chained."""


def module_name_for(project_dir: Path, path: Path) -> str:
    relative = path.relative_to(project_dir).with_suffix("")
    return ".".join(relative.parts)


def ensure_on_path(project_dir: Path) -> None:
    root = str(project_dir)
    if root not in sys.path:
        sys.path.insert(0, root)


def import_step_file(project_dir: Path, path: Path) -> ModuleType:
    """Import (or re-import) one file; raises StepImportError naming the file."""
    ensure_on_path(project_dir)
    name = module_name_for(project_dir, path)
    if not all(part.isidentifier() for part in name.split(".")):
        raise StepImportError(
            f"'{path.relative_to(project_dir)}' is not an importable module path: folder and "
            "file names may only use letters, digits and underscores"
        )
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(name)
    except Exception as exc:  # the user's module raised while importing
        raise StepImportError(f"{type(exc).__name__}: {exc}") from exc


def forget_project_modules(project_dir: Path) -> None:
    """Drop every module loaded from the project, so a reload sees edited helper files too."""
    root = str(project_dir.resolve())
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        locations = getattr(module, "__path__", None)
        if (file and str(Path(file).resolve()).startswith(root)) or (
            file is None
            and locations is not None
            and any(str(p).startswith(root) for p in list(locations))
        ):
            del sys.modules[name]
