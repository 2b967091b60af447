"""Load a whole project: discover its files, hand each kind to its pass, then check what
needs every step at once. Every problem is reported, each with its file, step name, field
and a hint.

The passes, in order: runner-described files (with a classic `motia.config.ts`), Python
steps, Python streams, `motia_config.py`; then the checks across steps and streams. The
runners read the files of other languages, so their pass is handed in (see
`motia.runtime.loading`); without one, each such file is reported as not loaded.
"""

from __future__ import annotations

from pathlib import Path

from motia.steps.discovery import discover
from motia.steps.importer import activate, forget_project_modules
from motia.steps.model import LoadedProject
from motia.steps.project_checks import check_across_steps, route_shape
from motia.steps.project_config import find_project_config
from motia.steps.project_hooks import PROJECT_HOOKS_FILE, use_hooks
from motia.steps.python_steps import load_python_steps, report_deprecated_names, split_v1_named
from motia.steps.runner_pass import RunnerPass, report_unread
from motia.steps.stream_files import keep_the_last_stream_of_each_name, load_python_streams

__all__ = [
    "PROJECT_HOOKS_FILE",
    "LoadedProject",
    "RunnerPass",
    "load_project",
    "route_shape",
]


def load_project(project_dir: Path, runner_pass: RunnerPass | None = None) -> LoadedProject:
    project_dir = project_dir.resolve()
    files = discover(project_dir)
    activate(project_dir)
    # Every load reads the files as they are now; within one load, a file that one step
    # imports from another is the same module object as the step itself.
    forget_project_modules(project_dir)
    project = LoadedProject()
    report = project.problems.append

    v1_named, deprecated = split_v1_named(files.deprecated)
    report_deprecated_names(project_dir, deprecated, report)
    runner_files = files.runner_files()
    project_config = find_project_config(project_dir)
    if project_config is not None:
        runner_files.setdefault("node", []).insert(0, project_config)
    if runner_files and runner_pass is not None:
        runner_pass(project_dir, runner_files, project)
    elif runner_files:
        report_unread(project_dir, runner_files, report)
    project.steps += load_python_steps(project_dir, files.python_steps + v1_named, report)
    project.streams += load_python_streams(project_dir, files.python_streams, report)
    use_hooks(project, project_dir, project_config)

    check_across_steps(project_dir, project)
    keep_the_last_stream_of_each_name(project_dir, project)
    return project
