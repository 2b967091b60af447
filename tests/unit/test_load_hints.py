"""What a user is told when a step file does not load: a syntax error as Python shows it
(file, line, the source line and a caret), and for a field of the wrong type, what the
field takes with an example."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from motia.errors import Problem
from motia.runtime.loading import load_project
from tests.conftest import write_project

HANDLER = "\nasync def handler(input_data, ctx):\n    pass\n"


def _only(problems: list[Problem], file: str) -> Problem:
    found = [p for p in problems if str(p.file) == file]
    assert len(found) == 1, "\n".join(map(str, problems))
    return found[0]


def test_a_syntax_error_shows_its_line_and_caret_without_an_import_hint(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/orders/syntax_step.py": (
                "config = {'type': 'api', 'name': 'S', 'method': 'GET', 'path': '/s'}\n"
                "async def handler(req, ctx)\n"
                "    return {'status': 200}\n"
            )
        },
    )
    problem = _only(load_project(tmp_path).problems, "steps/orders/syntax_step.py")
    assert problem.line == 2
    assert problem.message == "SyntaxError: expected ':'"
    assert problem.hint is None
    text = str(problem)
    first, source, caret = text.splitlines()
    assert first == "steps/orders/syntax_step.py:2: SyntaxError: expected ':'"
    assert source.strip() == "async def handler(req, ctx)"
    # The caret stands right after the closing parenthesis, where the colon is missing.
    assert caret.strip() == "^" and caret.index("^") == source.index(")") + 1


def test_a_syntax_error_in_a_helper_names_the_helper(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/lib/money.py": "RATE = (1,\n",
            "steps/pay_step.py": "from steps.lib.money import RATE\nconfig = {}\n",
        },
    )
    problem = _only(load_project(tmp_path).problems, "steps/lib/money.py")
    assert problem.line == 1 and "was never closed" in problem.message
    assert "RATE = (1," in str(problem) and "^" in str(problem)


def test_an_indentation_error_is_shown_the_same_way(tmp_path: Path) -> None:
    write_project(tmp_path, {"steps/indent_step.py": "config = {}\n  x = 1\n"})
    problem = _only(load_project(tmp_path).problems, "steps/indent_step.py")
    assert problem.message.startswith("IndentationError: unexpected indent")
    assert "x = 1" in str(problem)


def test_a_missing_module_keeps_the_import_path_hint(tmp_path: Path) -> None:
    write_project(tmp_path, {"steps/uses_step.py": "from lib.nowhere import x\nconfig = {}\n"})
    problem = _only(load_project(tmp_path).problems, "steps/uses_step.py")
    assert "ModuleNotFoundError" in problem.message
    assert problem.hint is not None and "from steps.lib import x" in problem.hint


@pytest.mark.parametrize(
    ("field", "value", "example"),
    [
        ("subscribes", "'order.created'", "'subscribes': ['order.created']"),
        ("flows", "'orders'", "'flows': ['orders']"),
        ("emits", "'order.paid'", "'emits': ['order.paid']"),
        ("subscribes", "{'topic': 'x'}", "'subscribes': ['order.created']"),
        ("infrastructure", "3", "'infrastructure': {'queue': {'maxRetries': 3}}"),
        ("name", "5", "'name': 'CreateOrder'"),
    ],
)
def test_a_wrong_typed_field_says_what_it_takes(
    tmp_path: Path, field: str, value: str, example: str
) -> None:
    fields = {"type": "'event'", "name": "'Charge'", "subscribes": "['order.created']"}
    fields[field] = value
    body = ", ".join(f"'{k}': {v}" for k, v in fields.items())
    write_project(tmp_path, {"steps/charge_step.py": f"config = {{{body}}}\n" + HANDLER})
    problems = load_project(tmp_path).problems
    problem = _only(problems, "steps/charge_step.py")
    assert problem.field == field
    assert problem.hint is not None and f"'{field}' takes" in problem.hint
    assert problem.hint.endswith(f"for example {example}")


def test_an_api_field_of_the_wrong_type_gets_its_example(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/api_step.py": (
                "config = {'type': 'api', 'name': 'A', 'method': 'GET', 'path': '/a',\n"
                "          'responseSchema': 'ok', 'queryParams': 'limit'}\n"
                "async def handler(req, ctx):\n    return {'status': 200}\n"
            )
        },
    )
    problems = load_project(tmp_path).problems
    hints = {p.field: p.hint for p in problems}
    assert hints["responseSchema"] == (
        "'responseSchema' takes a dict of status code to schema, "
        "for example 'responseSchema': {200: {'type': 'object'}}"
    )
    assert "[{'name': 'limit'}]" in str(hints["queryParams"])


def test_motia_build_prints_the_caret_and_the_field_hint(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/broken_step.py": "config = {'type': 'cron', 'name': 'B', 'cron': '* * * * *'\n",
            "steps/typed_step.py": (
                "config = {'type': 'event', 'name': 'T', 'subscribes': 'x'}" + HANDLER
            ),
        },
    )
    result = subprocess.run(
        [sys.executable, "-m", "motia", "build", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    err = result.stderr
    assert "steps/broken_step.py:1: SyntaxError: '{' was never closed" in err
    assert "config = {'type': 'cron'" in err and "^" in err
    assert "imports are relative" not in err
    assert "field 'subscribes'" in err and "for example 'subscribes': ['x']" in err
