"""Loading and validating step files: every problem reported at once, with file, step,
field and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.errors import Problem
from motia.runtime.loading import load_project
from motia.steps import loader as python_loader
from motia.steps.loader import LoadedProject, route_shape
from tests.conftest import write_project

API = """
config = {{"type": "api", "name": "{name}", "method": "{method}", "path": "{path}", "emits": []}}

async def handler(req, ctx):
    return {{"status": 200, "body": "ok"}}
"""


def _problems(project: Path) -> list[Problem]:
    return load_project(project).problems


def _find(problems: list[Problem], **expected: object) -> Problem:
    for problem in problems:
        if all(str(getattr(problem, k)) == str(v) for k, v in expected.items()):
            return problem
    raise AssertionError(f"no problem matching {expected} in:\n" + "\n".join(map(str, problems)))


def test_valid_project_loads_every_type(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/a_step.py": API.format(name="A", method="get", path="/a"),
            "steps/b_step.py": """
                config = {"type": "event", "name": "B", "subscribes": ["t"], "emits": ["u"],
                          "input": {"type": "object"},
                          "infrastructure": {"handler": {"timeout": 5},
                                             "queue": {"type": "fifo", "maxRetries": 2}}}
                async def handler(data, ctx): ...
            """,
            "src/deep/er/c_step.py": """
                config = {"type": "cron", "name": "C", "cron": "*/5 * * * * *", "emits": ["t"]}
                def handler(ctx): ...
            """,
            "steps/d_step.py": """
                config = {"type": "noop", "name": "D",
                          "virtualEmits": [{"topic": "t", "label": "x"}],
                          "virtualSubscribes": ["u"]}
            """,
            "steps/s_stream.py": """
                config = {"name": "messages", "schema": {"type": "object"},
                          "baseConfig": {"storageType": "default", "ttl": 60}}
            """,
        },
    )
    project = load_project(tmp_path)
    assert project.errors == []
    assert sorted(s.name for s in project.steps) == ["A", "B", "C", "D"]
    by_name = {s.name: s for s in project.steps}
    assert by_name["A"].api.method == "GET"  # methods are case-insensitive
    assert [s.name for s in project.streams] == ["messages"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/unknown_key_step.py": """
                config = {"type": "api", "name": "Unknown", "method": "GET", "path": "/u",
                          "emit": ["x"]}
                async def handler(req, ctx): ...
            """,
            "steps/missing_path_step.py": """
                config = {"type": "api", "name": "NoPath", "method": "GET"}
                async def handler(req, ctx): ...
            """,
            "steps/dup1_step.py": API.format(name="Same", method="GET", path="/one"),
            "steps/dup2_step.py": API.format(name="Same", method="GET", path="/two"),
            "steps/route1_step.py": API.format(name="R1", method="GET", path="/pets/:id"),
            "steps/route2_step.py": API.format(name="R2", method="GET", path="/pets/:petId"),
            "steps/cron_step.py": """
                config = {"type": "cron", "name": "BadCron", "cron": "every minute"}
                async def handler(ctx): ...
            """,
            "steps/broken_step.py": "raise RuntimeError('boom at import')\n",
            "steps/nohandler_step.py": """
                config = {"type": "event", "name": "NoHandler", "subscribes": ["t"]}
            """,
            "steps/badtype_step.py": """
                config = {"type": "job", "name": "Job"}
            """,
            "steps/schema_step.py": """
                config = {"type": "api", "name": "BadSchema", "method": "POST", "path": "/s",
                          "bodySchema": {"type": "strin"}}
                async def handler(req, ctx): ...
            """,
            "steps/arity_step.py": """
                config = {"type": "api", "name": "Arity", "method": "GET", "path": "/arity"}
                async def handler(req): ...
            """,
        },
    )
    problems = _problems(tmp_path)
    unknown = _find(problems, step="Unknown", field="emit")
    assert unknown.hint == "did you mean 'emits'?"
    assert str(unknown.file) == "steps/unknown_key_step.py"
    _find(problems, step="NoPath", field="path", message="required field is missing")
    _find(problems, step="Same", field="name")
    route = _find(problems, step="R2", field="path")
    assert "R1" in route.message
    _find(problems, step="BadCron", field="cron")
    broken = _find(problems, file="steps/broken_step.py")
    assert "boom at import" in broken.message
    _find(problems, step="NoHandler", field="handler")
    _find(problems, step="Job", field="type")
    _find(problems, step="BadSchema", field="bodySchema")
    _find(problems, step="Arity", field="handler")
    assert len([p for p in problems if p.is_error]) == 10


def test_unknown_topic_is_a_warning_not_an_error(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/e_step.py": """
                config = {"type": "event", "name": "E", "subscribes": ["nobody.emits"]}
                async def handler(data, ctx): ...
            """
        },
    )
    project = load_project(tmp_path)
    assert project.errors == []
    warning = _find(project.warnings, step="E", field="subscribes")
    assert "nobody.emits" in warning.message


def test_deprecated_python_file_names_are_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"steps/old-name.step.py": "config = {}\n"})
    project = load_project(tmp_path)
    assert project.steps == []
    rename = _find(project.warnings, file="steps/old-name.step.py")
    assert rename.hint == "rename it to 'old_name_step.py'"


def test_a_missing_runner_binary_is_one_error_naming_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTIA_NODE", str(tmp_path / "no-such-node"))
    monkeypatch.setenv("MOTIA_RUBY", str(tmp_path / "no-such-ruby"))
    write_project(
        tmp_path,
        {
            "steps/hello.step.ts": "export const config = {}\n",
            "steps/other.step.js": "module.exports = {}\n",
            "src/billing_step.rb": "def config; end\n",
        },
    )
    project = load_project(tmp_path)
    assert project.steps == []
    node = next(p for p in project.errors if "`node` was not found" in p.message)
    assert "steps/hello.step.ts" in node.message and "steps/other.step.js" in node.message
    assert node.hint is not None and "MOTIA_NODE" in node.hint
    ruby = next(p for p in project.errors if "`ruby` was not found" in p.message)
    assert "src/billing_step.rb" in ruby.message
    assert len(project.errors) == 2


def test_relative_and_absolute_imports_share_one_module(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/lib/shared.py": "CALLS = []\n",
            "steps/a/b/c/deep_step.py": """
                from ....lib import shared
                from steps.lib import shared as absolute
                assert shared is absolute
                config = {"type": "noop", "name": "Deep", "virtualEmits": [],
                          "virtualSubscribes": []}
            """,
        },
    )
    project = load_project(tmp_path)
    assert project.errors == [], project.problems
    assert [s.name for s in project.steps] == ["Deep"]


def test_pydantic_models_as_schemas(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/p_step.py": """
                from pydantic import BaseModel

                class Order(BaseModel):
                    id: str
                    quantity: int

                config = {"type": "api", "name": "P", "method": "POST", "path": "/p",
                          "bodySchema": Order, "responseSchema": {"200": Order.model_json_schema()}}
                async def handler(req, ctx): ...
            """
        },
    )
    step = load_project(tmp_path).steps[0]
    assert step.body_schema is not None
    assert step.body_schema.validate({"id": "x", "quantity": 2}) == []
    fields = {e.field for e in step.body_schema.validate({"quantity": "many"})}
    assert fields == {"id", "quantity"}
    assert set(step.response_schemas) == {200}


def test_json_schema_reports_every_violation(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/j_step.py": """
                config = {"type": "api", "name": "J", "method": "POST", "path": "/j",
                          "bodySchema": {"type": "object", "required": ["name", "age"],
                                         "properties": {"name": {"type": "string"},
                                                        "age": {"type": "integer"},
                                                        "tags": {"type": "array",
                                                                 "items": {"type": "string"}}}}}
                async def handler(req, ctx): ...
            """
        },
    )
    schema = load_project(tmp_path).steps[0].body_schema
    assert schema is not None
    errors = schema.validate({"name": 3, "tags": ["ok", 7]})
    assert {e.field for e in errors} == {"age", "name", "tags.1"}
    assert any("'age' is a required property" in e.message for e in errors)


def test_route_shape_ignores_parameter_names() -> None:
    assert route_shape("/pets/:id") == route_shape("/pets/:petId/") == "/pets/:"
    assert route_shape("/pets/:id") != route_shape("/pets/mine")


def test_import_failures_point_at_the_failing_line(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/lib/helper.py": "VALUE = 1\nraise ValueError('bad helper')\n",
            "steps/uses_helper_step.py": "from steps.lib import helper\nconfig = {}\n",
            "steps/syntax_step.py": "config = {\n  'type': 'api',,\n}\n",
        },
    )
    problems = _problems(tmp_path)
    helper = _find(problems, file="steps/lib/helper.py")
    assert helper.line == 2 and "bad helper" in helper.message
    syntax = _find(problems, file="steps/syntax_step.py")
    assert syntax.line == 2 and "SyntaxError" in syntax.message


def test_duplicates_are_not_served(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/a_step.py": API.format(name="Same", method="GET", path="/a"),
            "steps/b_step.py": API.format(name="Same", method="GET", path="/b"),
            "steps/c_step.py": API.format(name="Other", method="GET", path="/a/"),
        },
    )
    project = load_project(tmp_path)
    assert [s.file.name for s in project.steps] == ["a_step.py"]
    assert len(project.errors) == 2


def test_module_names_follow_paths_whatever_the_characters(tmp_path: Path) -> None:
    from motia.steps.importer import module_name_for

    cases = {
        "steps/orders/create_step.py": "steps.orders.create_step",
        "steps/rag-ingestion/03-chunk_step.py": "steps.rag-ingestion.03-chunk_step",
        "src/jobs/reminder.job_step.py": "src.jobs.reminder%2Ejob_step",
        "steps/v1.2/50%-off_step.py": "steps.v1%2E2.50%25-off_step",
    }
    for relative, expected in cases.items():
        assert module_name_for(tmp_path, tmp_path / relative) == expected
    write_project(
        tmp_path,
        {
            relative: API.format(name=f"S{i}", method="GET", path=f"/s{i}")
            for i, relative in enumerate(cases)
        },
    )
    project = load_project(tmp_path)
    assert project.problems == []
    assert sorted(s.name for s in project.steps) == ["S0", "S1", "S2", "S3"]


RUNNER_FILES = {
    "steps/a_step.py": API.format(name="A", method="get", path="/a"),
    "steps/b.step.ts": "export const config = { type: 'noop', name: 'B' }\n",
    "steps/c_step.rb": "def config = { type: 'noop', name: 'C' }\n",
    "motia.config.ts": "export default {}\n",
}


def test_without_a_runner_pass_each_runner_file_is_named_as_not_loaded(tmp_path: Path) -> None:
    write_project(tmp_path, RUNNER_FILES)
    project = python_loader.load_project(tmp_path)
    assert [step.name for step in project.steps] == ["A"]
    ts = _find(project.errors, file="steps/b.step.ts")
    assert "TypeScript" in ts.message and "node runner" in ts.message
    rb = _find(project.errors, file="steps/c_step.rb")
    assert "Ruby" in rb.message and "ruby runner" in rb.message
    config = _find(project.warnings, file="motia.config.ts")
    assert "not read" in config.message
    assert len(project.errors) == 2


def test_the_runner_pass_gets_each_runner_s_files_the_project_config_first(
    tmp_path: Path,
) -> None:
    write_project(tmp_path, RUNNER_FILES)
    seen: dict[str, list[Path]] = {}

    def runner_pass(project_dir: Path, files: dict[str, list[Path]], into: LoadedProject) -> None:
        assert project_dir == tmp_path.resolve()
        seen.update(files)
        into.problems.append(Problem("described", severity="info"))

    project = python_loader.load_project(tmp_path, runner_pass)
    root = tmp_path.resolve()
    assert seen == {
        "node": [root / "motia.config.ts", root / "steps/b.step.ts"],
        "ruby": [root / "steps/c_step.rb"],
    }
    assert not project.errors
    assert [step.name for step in project.steps] == ["A"]
    assert any(problem.message == "described" for problem in project.problems)
