"""Load a project with every language: the loader of `motia.steps` reads the Python files,
and the runners describe the rest. The CLI, the runtime (and with it dev reloads and the test
kit) load through here."""

from __future__ import annotations

from pathlib import Path

from motia.runtime.runner_files import describe_runner_files
from motia.steps import loader as steps_loader
from motia.steps.loader import LoadedProject

__all__ = ["LoadedProject", "load_project"]


def load_project(project_dir: Path) -> LoadedProject:
    """Every step and stream of the project, in any language, and every problem found."""
    return steps_loader.load_project(project_dir, describe_runner_files)
