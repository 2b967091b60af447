"""`motia start` refuses a broken project and lists every problem; `motia dev` serves what
it can and prints the rest."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli._support import api_step, run_motia
from tests.conftest import ServerProcess, free_port, write_project

BROKEN_PROJECT: dict[str, str] = {
    "steps/good_step.py": api_step("Good", "GET", "/good", "{'good': True}"),
    "steps/unknown_key_step.py": api_step(
        "UnknownKey", "GET", "/unknown", extra='\n    "colour": "red",'
    ),
    "steps/no_path_step.py": """
        config = {"type": "api", "name": "NoPath", "method": "GET", "emits": []}


        async def handler(req, ctx):
            return {"status": 200, "body": {}}
        """,
    "steps/dup_one_step.py": api_step("Twin", "GET", "/twin-one"),
    "steps/dup_two_step.py": api_step("Twin", "GET", "/twin-two"),
    "steps/pets_by_id_step.py": api_step("PetById", "GET", "/pets/:id"),
    "steps/pets_by_pet_id_step.py": api_step("PetByPetId", "GET", "/pets/:petId"),
    "steps/bad_cron_step.py": """
        config = {"type": "cron", "name": "BadCron", "cron": "every five minutes", "emits": []}


        async def handler(ctx):
            pass
        """,
    "steps/raises_step.py": """
        raise RuntimeError("boom while importing")
        """,
    "steps/no_handler_step.py": """
        config = {
            "type": "event",
            "name": "NoHandler",
            "subscribes": ["orders.created"],
            "emits": [],
        }
        """,
    "steps/lonely_step.py": """
        config = {
            "type": "event",
            "name": "Lonely",
            "subscribes": ["nobody.emits.this"],
            "emits": [],
        }


        async def handler(input_data, ctx):
            pass
        """,
}


def problem_lines(output: str, file: str) -> list[str]:
    """The output lines that mention `file`."""
    return [line for line in output.splitlines() if file in line]


@pytest.fixture(scope="module")
def broken_start(tmp_path_factory: pytest.TempPathFactory) -> str:
    project = write_project(tmp_path_factory.mktemp("broken"), BROKEN_PROJECT)
    result = run_motia("start", "--dir", str(project), "--port", str(free_port()), cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_start_exits_1_without_serving(broken_start: str) -> None:
    assert "ready:" not in broken_start
    # unknown key, missing path, duplicate name, duplicate route, cron, import, no handler
    assert re.search(r"\b7 error", broken_start), broken_start


def test_start_reports_unknown_config_key(broken_start: str) -> None:
    lines = problem_lines(broken_start, "unknown_key_step.py")
    assert any("'UnknownKey'" in line and "colour" in line for line in lines), broken_start


def test_start_reports_missing_required_field(broken_start: str) -> None:
    lines = problem_lines(broken_start, "no_path_step.py")
    assert any("'NoPath'" in line and "'path'" in line and "missing" in line for line in lines), (
        broken_start
    )


def test_start_reports_duplicate_step_names(broken_start: str) -> None:
    lines = problem_lines(broken_start, "dup_two_step.py")
    assert any("'Twin'" in line and "dup_one_step.py" in line for line in lines), broken_start


def test_start_reports_same_route_with_different_parameter_names(broken_start: str) -> None:
    lines = problem_lines(broken_start, "pets_by_pet_id_step.py")
    assert any(
        "'PetByPetId'" in line and "/pets/:petId" in line and "'PetById'" in line for line in lines
    ), broken_start


def test_start_reports_invalid_cron_expression(broken_start: str) -> None:
    lines = problem_lines(broken_start, "bad_cron_step.py")
    assert any(
        "'BadCron'" in line and "'cron'" in line and "every five minutes" in line for line in lines
    ), broken_start


def test_start_reports_file_that_raises_on_import(broken_start: str) -> None:
    lines = problem_lines(broken_start, "raises_step.py")
    assert any("boom while importing" in line for line in lines), broken_start


def test_start_reports_event_step_without_handler(broken_start: str) -> None:
    lines = problem_lines(broken_start, "no_handler_step.py")
    assert any("'NoHandler'" in line and "handler" in line for line in lines), broken_start


def test_subscription_to_unemitted_topic_is_only_a_warning(broken_start: str) -> None:
    lines = problem_lines(broken_start, "lonely_step.py")
    assert lines, broken_start
    assert all("nobody.emits.this" in line for line in lines)
    assert all(line.lower().startswith("warn") for line in lines), lines
    assert not problem_lines(broken_start, "good_step.py")


def test_dev_serves_valid_steps_and_prints_errors(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "steps/good_step.py": api_step("Good", "GET", "/good", "{'good': True}"),
            "steps/raises_step.py": "raise RuntimeError('boom while importing')\n",
            "steps/no_path_step.py": BROKEN_PROJECT["steps/no_path_step.py"],
        },
    )
    server = server_factory(project, "dev")
    response = server.client.get("/good")
    assert response.status_code == 200
    assert response.json() == {"good": True}
    output = server.wait_for_output("boom while importing")
    assert any("no_path_step.py" in line and "'path'" in line for line in output.splitlines())
    assert server.process.poll() is None
