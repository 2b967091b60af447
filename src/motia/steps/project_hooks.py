"""`motia_config.py` at the project root: project-wide hooks written in Python. Today one,
`authenticate(request)`, which decides who may subscribe to streams."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from motia.errors import Problem
from motia.steps.load_support import Report, import_file
from motia.steps.model import LoadedProject

PROJECT_HOOKS_FILE = "motia_config.py"


def load_hooks(project_dir: Path, report: Report) -> Callable[..., Any] | None:
    """`motia_config.py` at the project root may define `authenticate(request)`."""
    path = project_dir / PROJECT_HOOKS_FILE
    if not path.is_file():
        return None
    module = import_file(project_dir, path, Path(PROJECT_HOOKS_FILE), report)
    if module is None:
        return None
    authenticate = getattr(module, "authenticate", None)
    if authenticate is not None and not callable(authenticate):
        report(
            Problem(
                "`authenticate` must be a function",
                file=Path(PROJECT_HOOKS_FILE),
                field="authenticate",
                hint="define `async def authenticate(request)` returning a context or None",
            )
        )
        return None
    return authenticate


def use_hooks(project: LoadedProject, project_dir: Path, stream_auth_file: Path | None) -> None:
    """Load the hooks into the project; `authenticate` here wins over the `streamAuth` of
    a motia.config.ts (`stream_auth_file`), with a warning that names both."""
    hook = load_hooks(project_dir, project.problems.append)
    if hook is None:
        return
    if project.authenticate is not None and stream_auth_file is not None:
        project.problems.append(
            Problem(
                f"stream clients are authenticated by {PROJECT_HOOKS_FILE}; the "
                f"`streamAuth` of {stream_auth_file.name} is not used",
                file=Path(PROJECT_HOOKS_FILE),
                hint="keep one of the two",
                severity="warning",
            )
        )
    project.authenticate = hook
