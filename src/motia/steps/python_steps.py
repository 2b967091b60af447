"""Python step files: each imported for its module-level `config` and `handler`, and
files named in the old `x.step.py` form pointed at their new name."""

from __future__ import annotations

from pathlib import Path

from motia.errors import Problem
from motia.steps.discovery import DEPRECATED_PYTHON_STEP_SUFFIX, suggested_name
from motia.steps.load_support import Report, import_file, relative
from motia.steps.model import Step
from motia.steps.step_checks import build_step
from motia.steps.triggers import expand_v1_step, is_v1_config


def load_python_steps(project_dir: Path, paths: list[Path], report: Report) -> list[Step]:
    steps = []
    for path in paths:
        rel = relative(project_dir, path)
        module = import_file(project_dir, path, rel, report)
        if module is None:
            continue
        config, handler = getattr(module, "config", None), getattr(module, "handler", None)
        if isinstance(config, dict) and is_v1_config(config):
            steps += expand_v1_step(path, rel, config, handler, report, build_step)
            continue
        step = build_step(path, rel, config, handler, report)
        if step is not None:
            steps.append(step)
    return steps


def split_v1_named(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Motia 1.0 names Python step files `x.step.py`, which early classic projects also did:
    a `.step.py` file that declares `triggers` is a 1.0 step and loads; the others are
    pointed at their new name."""
    v1: list[Path] = []
    rest: list[Path] = []
    for path in paths:
        is_step = path.name.endswith(DEPRECATED_PYTHON_STEP_SUFFIX)
        try:
            declares_triggers = is_step and "triggers" in path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            declares_triggers = False
        (v1 if declares_triggers else rest).append(path)
    return v1, rest


def report_deprecated_names(project_dir: Path, paths: list[Path], report: Report) -> None:
    """`x.step.py` / `x.stream.py` are not loaded: say which name to give each."""
    for path in paths:
        report(
            Problem(
                "files named '*.step.py' / '*.stream.py' are no longer loaded",
                file=relative(project_dir, path),
                hint=f"rename it to '{suggested_name(path)}'",
                severity="warning",
            )
        )
