"""Find step and stream files in a project: `steps/` and `src/`, any depth."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from motia.steps.languages import RUNNER_LANGUAGES

STEP_ROOTS = ("steps", "src")
# Folders that never hold step files; skipping them keeps discovery fast on big projects.
SKIPPED_DIRS = frozenset(
    {"node_modules", "__pycache__", "python_modules", ".venv", "venv", ".git", ".motia", "dist"}
)

PYTHON_STEP_SUFFIX = "_step.py"
PYTHON_STREAM_SUFFIX = "_stream.py"
DEPRECATED_PYTHON_STEP_SUFFIX = ".step.py"
DEPRECATED_PYTHON_STREAM_SUFFIX = ".stream.py"
# Files of other languages: (suffix, the runner that runs them). Steps are `x.step.ts` or
# `x_step.ts` with any of the language's suffixes, streams `x.stream.mts` likewise, but
# `x_stream.*` only with the language's main suffix.
FOREIGN_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    (marker + suffix, language.runner)
    for language in RUNNER_LANGUAGES
    if language.runner is not None
    for suffix in language.step_suffixes
    for marker in (".step", "_step", ".stream", "_stream")
    if marker != "_stream" or suffix == language.main_suffix
)


@dataclass
class DiscoveredFiles:
    """Every file discovery found, sorted so that loading order is stable."""

    python_steps: list[Path] = field(default_factory=list)
    python_streams: list[Path] = field(default_factory=list)
    deprecated: list[Path] = field(default_factory=list)
    # Files that run in a runner: (path, runner name).
    foreign: list[tuple[Path, str]] = field(default_factory=list)

    def runner_files(self) -> dict[str, list[Path]]:
        """Files of other languages, by the runner that runs them."""
        by_runner: dict[str, list[Path]] = {}
        for path, runner in self.foreign:
            by_runner.setdefault(runner, []).append(path)
        return by_runner


def discover(project_dir: Path) -> DiscoveredFiles:
    found = DiscoveredFiles()
    for root_name in STEP_ROOTS:
        root = project_dir / root_name
        if root.is_dir():
            _walk(root, found)
    found.python_steps.sort()
    found.python_streams.sort()
    found.deprecated.sort()
    found.foreign.sort()
    return found


def _walk(root: Path, found: DiscoveredFiles) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in filenames:
            _classify(Path(dirpath) / name, name, found)


def _classify(path: Path, name: str, found: DiscoveredFiles) -> None:
    if name.endswith(PYTHON_STEP_SUFFIX):
        found.python_steps.append(path)
    elif name.endswith(PYTHON_STREAM_SUFFIX):
        found.python_streams.append(path)
    elif name.endswith((DEPRECATED_PYTHON_STEP_SUFFIX, DEPRECATED_PYTHON_STREAM_SUFFIX)):
        found.deprecated.append(path)
    else:
        for suffix, runner in FOREIGN_SUFFIXES:
            if name.endswith(suffix):
                found.foreign.append((path, runner))
                return


def is_step_file(relative: Path) -> bool:
    """Whether discovery would find a file at this project-relative path (it may not
    exist yet, or any more)."""
    parts = relative.parts
    if len(parts) < 2 or parts[0] not in STEP_ROOTS:
        return False
    if any(d in SKIPPED_DIRS or d.startswith(".") for d in parts[1:-1]):
        return False
    found = DiscoveredFiles()
    _classify(relative, relative.name, found)
    return bool(found.python_steps or found.python_streams or found.deprecated or found.foreign)


def suggested_name(path: Path) -> str:
    """The name a deprecated `x.step.py` file should have: `x_step.py`."""
    name = path.name
    for old, new in (
        (DEPRECATED_PYTHON_STEP_SUFFIX, PYTHON_STEP_SUFFIX),
        (DEPRECATED_PYTHON_STREAM_SUFFIX, PYTHON_STREAM_SUFFIX),
    ):
        if name.endswith(old):
            stem = name[: -len(old)].replace("-", "_").replace(".", "_")
            return stem + new
    return name


def is_discoverable(project_dir: Path, path: Path) -> bool:
    """Whether `discover` would find a step file at `path` (both absolute): under steps/
    or src/, and in no skipped or hidden folder."""
    try:
        parts = path.relative_to(project_dir).parts
    except ValueError:
        return False
    if len(parts) < 2 or parts[0] not in STEP_ROOTS:
        return False
    return not any(part in SKIPPED_DIRS or part.startswith(".") for part in parts[1:-1])
