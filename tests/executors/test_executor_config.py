"""`executor` in a step's config: checked at load time, each wrong value reported with the
file, the step and the field; `motia start` refuses such a project and says where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from motia.errors import Problem
from motia.runtime.loading import load_project
from motia.steps.step_checks import build_step
from tests.conftest import write_project

STEPS = {
    "api": '{"type": "api", "name": "Api", "method": "GET", "path": "/a", "executor": VALUE}',
    "event": '{"type": "event", "name": "Event", "subscribes": ["t"], "executor": VALUE}',
    "cron": '{"type": "cron", "name": "Cron", "cron": "* * * * *", "executor": VALUE}',
}
HANDLERS = {
    "api": "def handler(req, ctx): ...",
    "event": "def handler(data, ctx): ...",
    "cron": "def handler(ctx): ...",
}


def _project(root: Path, kind: str, value: str) -> Path:
    config = STEPS[kind].replace("VALUE", value)
    return write_project(
        root, {f"steps/{kind}_step.py": f"config = {config}\n\n{HANDLERS[kind]}\n"}
    )


@pytest.mark.parametrize("kind", list(STEPS))
@pytest.mark.parametrize("value", ['"thread"', '"process"'])
def test_thread_and_process_are_accepted_on_every_python_step(
    tmp_path: Path, kind: str, value: str
) -> None:
    loaded = load_project(_project(tmp_path, kind, value))
    assert loaded.errors == []
    assert loaded.steps[0].config.executor == value.strip('"')  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", list(STEPS))
@pytest.mark.parametrize("value", ['"processes"', "True", '"fork"'])
def test_another_value_is_an_error_naming_file_step_and_field(
    tmp_path: Path, kind: str, value: str
) -> None:
    errors = load_project(_project(tmp_path, kind, value)).errors
    assert len(errors) == 1, errors
    problem = errors[0]
    assert problem.file == Path(f"steps/{kind}_step.py")
    assert problem.step == kind.capitalize()
    assert problem.field == "executor"
    assert "'thread'" in str(problem) and "'process'" in str(problem)


def test_process_is_refused_on_a_step_of_another_language(tmp_path: Path) -> None:
    found: list[Problem] = []
    raw = {"type": "api", "name": "Js", "method": "GET", "path": "/js", "executor": "process"}
    file = tmp_path / "steps" / "js.step.ts"
    step = build_step(
        file,
        Path("steps/js.step.ts"),
        raw,
        lambda req, ctx: None,
        found.append,
        language="typescript",
    )
    assert step is None
    assert [(p.file, p.step, p.field) for p in found] == [
        (Path("steps/js.step.ts"), "Js", "executor")
    ]
    assert "for Python steps" in found[0].message


def test_motia_start_refuses_a_bad_executor_and_names_the_file(tmp_path: Path) -> None:
    project = _project(tmp_path, "event", '"processes"')
    done = subprocess.run(
        [sys.executable, "-m", "motia", "start", "--dir", str(project), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "steps/event_step.py" in output
    assert "executor" in output
