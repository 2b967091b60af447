"""What every loading pass shares: importing a project file and turning a failed
validation into problems that name the file, step and field."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel, ValidationError

from motia.errors import Problem
from motia.steps.hints import field_hint, import_failure
from motia.steps.importer import StepImportError, import_step_file

# Where a pass puts what it finds wrong; the coordinator keeps them all.
Report = Callable[[Problem], None]


def relative(project_dir: Path, path: Path) -> Path:
    try:
        return path.relative_to(project_dir)
    except ValueError:
        return path


def import_file(project_dir: Path, path: Path, rel: Path, report: Report) -> ModuleType | None:
    try:
        return import_step_file(project_dir, path)
    except StepImportError as exc:
        where, line = exc.location if exc.location else (rel, None)
        # The problem points at the failing line; the message names the file being loaded.
        during = "" if where == rel else f" (while loading {rel})"
        report(import_failure(f"{exc}{during}", where, line, exc.__cause__, exc.hint))
        return None


def validation_problems(
    exc: ValidationError, rel: Path, step: str | None, model: type[BaseModel]
) -> list[Problem]:
    known = [info.alias or name for name, info in model.model_fields.items()]
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        kind = err["type"]
        hint: str | None = None
        if kind == "missing":
            message = "required field is missing"
            hint = f"add '{err['loc'][-1]}'"
        elif kind == "extra_forbidden":
            message = "unknown field"
            close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it or check its spelling"
        else:
            message = err["msg"]
            hint = field_hint(err)
        problems.append(Problem(message, file=rel, step=step, field=loc or None, hint=hint))
    return problems
