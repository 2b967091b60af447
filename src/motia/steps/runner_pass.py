"""The pass that loads files of other languages (TypeScript, JavaScript, Ruby) and a classic
`motia.config.ts`. Their runners read them, and the runners sit beside this layer, so the
loader takes the pass as an argument; `motia.runtime.loading` hands in the real one."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from motia.errors import Problem
from motia.steps.languages import language_of
from motia.steps.load_support import Report, relative
from motia.steps.model import LoadedProject
from motia.steps.project_config import CONFIG_NAMES


class RunnerPass(Protocol):
    """Loads `files` (by runner name, a classic project config first among node's) into
    `project`: its steps, streams, stream authenticator, runner files and binaries, and a
    problem for every file it cannot load."""

    def __call__(
        self, project_dir: Path, files: dict[str, list[Path]], project: LoadedProject
    ) -> None: ...


def report_unread(project_dir: Path, files: dict[str, list[Path]], report: Report) -> None:
    """Without a runner pass, every runner file is named as not loaded: a step missing in
    silence is worse than a load that says why."""
    for runner, paths in files.items():
        for path in paths:
            rel = relative(project_dir, path)
            if path.name in CONFIG_NAMES:
                report(
                    Problem(
                        f"the project config needs the {runner} runner, which this load "
                        "does not use; it is not read",
                        file=rel,
                        hint="load the project with motia.runtime.loading.load_project",
                        severity="warning",
                    )
                )
                continue
            report(
                Problem(
                    f"could not be loaded: {language_of(path).display} files need the "
                    f"{runner} runner, which this load does not use",
                    file=rel,
                    hint="load the project with motia.runtime.loading.load_project",
                )
            )
