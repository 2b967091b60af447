"""Flow-control settings are checked when the project loads: a bad value, an unknown key
path, or flow control on a step that is not an event step is an error naming the file,
the step and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.errors import InvalidEmit, Problem
from motia.runtime.events import parse_emit
from motia.runtime.flow_control import key_of
from motia.runtime.loading import load_project
from tests.conftest import write_project

EVENT = """
config = {{
    "type": "event",
    "name": "Work",
    "subscribes": ["work"],
    "emits": [],
    {extra}
}}


async def handler(data, ctx):
    pass
"""


def _errors(tmp: Path, extra: str, source: str = EVENT) -> list[Problem]:
    write_project(tmp, {"steps/work_step.py": source.format(extra=extra)})
    return load_project(tmp).errors


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        ('"concurrency": -1', "concurrency.limit", "greater than or equal to 1"),
        ('"concurrency": {"limit": 0}', "concurrency.limit", "greater than or equal to 1"),
        ('"concurrency": {"limit": 1.5}', "concurrency.limit", "integer"),
        ('"concurrency": {"limit": 2, "key": "user.id"}', "concurrency.key", "unknown key"),
        ('"concurrency": {"limit": 2, "key": 7}', "concurrency.key", "dotted path"),
        ('"concurrency": {"limit": 2, "per": "x"}', "concurrency.per", "unknown field"),
        ('"throttle": {"limit": 3}', "throttle.period", "missing"),
        ('"throttle": {"limit": 3, "period": -5}', "throttle.period", "period"),
        ('"rateLimit": {"limit": -3, "period": 5}', "rateLimit.limit", "greater than"),
        ('"idempotencyKey": ["data"]', "idempotencyKey", "dotted path"),
        ('"idempotencyKey": "data..id"', "idempotencyKey", "unknown key"),
        ('"idempotencyWindow": 0', "idempotencyWindow", "period"),
        ('"debounce": {"period": 0}', "debounce.period", "period"),
        ('"debounce": {"period": 5, "key": "body.id"}', "debounce.key", "unknown key"),
        ('"priority": 1001', "priority", "less than or equal to 1000"),
        ('"priority": "high"', "priority", "integer"),
        ('"batch": {"size": 0}', "batch.size", "greater than or equal to 1"),
        ('"batch": {"size": 5, "timeout": -1}', "batch.timeout", "greater than 0"),
        ('"batch": {"size": 5, "window": 1}', "batch.window", "unknown field"),
    ],
)
def test_bad_values_name_file_step_and_field(
    tmp_path: Path, extra: str, field: str, says: str
) -> None:
    problem = _only(_errors(tmp_path, extra))
    assert problem.file == Path("steps/work_step.py")
    assert problem.step == "Work"
    assert problem.field == field
    assert says in f"{problem.message} {problem.hint}"


def test_throttle_and_its_alias_together_are_refused(tmp_path: Path) -> None:
    extra = '"throttle": {"limit": 1, "period": 1}, "rateLimit": {"limit": 1, "period": 1}'
    problem = _only(_errors(tmp_path, extra))
    assert "not both" in problem.message and problem.step == "Work"


@pytest.mark.parametrize(
    ("source", "key"),
    [
        (
            'config = {"type": "api", "name": "Work", "method": "POST", "path": "/w", '
            '"emits": [], "concurrency": 2}\n\nasync def handler(req, ctx):\n    pass\n',
            "concurrency",
        ),
        (
            'config = {"type": "cron", "name": "Work", "cron": "* * * * *", "emits": [], '
            '"rateLimit": {"limit": 1, "period": 1}}\n\nasync def handler(ctx):\n    pass\n',
            "rateLimit",
        ),
        (
            'config = {"type": "api", "name": "Work", "method": "POST", "path": "/w", '
            '"emits": [], "debounce": {"period": 1}}\n\nasync def handler(req, ctx):\n    pass\n',
            "debounce",
        ),
        (
            'config = {"type": "api", "name": "Work", "method": "POST", "path": "/w", '
            '"emits": [], "batch": {"size": 5}}\n\nasync def handler(req, ctx):\n    pass\n',
            "batch",
        ),
    ],
)
def test_flow_control_on_a_non_event_step_is_an_error(
    tmp_path: Path, source: str, key: str
) -> None:
    write_project(tmp_path, {"steps/work_step.py": source})
    problem = _only(load_project(tmp_path).errors)
    assert (problem.file, problem.step, problem.field) == (Path("steps/work_step.py"), "Work", key)
    assert "event steps only" in problem.message


def test_an_api_step_keeps_its_http_rate_limit(tmp_path: Path) -> None:
    source = (
        'config = {"type": "api", "name": "Work", "method": "POST", "path": "/w", '
        '"emits": [], "rateLimit": {"requests": 5, "per": "1m"}}\n\n'
        "async def handler(req, ctx):\n    pass\n"
    )
    write_project(tmp_path, {"steps/work_step.py": source})
    assert load_project(tmp_path).errors == []


def test_every_setting_loads_in_its_short_and_long_forms(tmp_path: Path) -> None:
    extra = (
        '"concurrency": 5, "rateLimit": {"limit": 10, "period": "1m", "key": "data.a"}, '
        '"idempotencyKey": lambda data: data["id"], "idempotencyWindow": "1h", '
        '"debounce": {"period": "30s", "key": "topic"}'
    )
    write_project(tmp_path, {"steps/work_step.py": EVENT.format(extra=extra)})
    project = load_project(tmp_path)
    assert project.errors == []
    config = project.steps[0].event
    assert config.concurrency is not None and config.concurrency.limit == 5
    assert config.throttle_rule is not None and config.throttle_rule.period == 60
    assert config.idempotency_window == 3600
    assert config.debounce is not None and config.debounce.period == 30


def test_key_paths_read_the_event() -> None:
    where = {"topic": "t", "traceId": "tr", "messageGroupId": None}
    data = {"user": {"id": 7}, "items": ["x", "y"]}
    assert key_of("data.user.id", data, where) == "7"
    assert key_of("data.items.1", data, where) == "y"
    assert key_of("topic", data, where) == "t"
    assert key_of("data.missing", data, where) is None
    assert key_of("messageGroupId", data, where) is None
    assert key_of(lambda d: d["user"]["id"] * 2, data, where) == "14"


@pytest.mark.parametrize("priority", ["high", 1.5, True, 1001, -1001])
def test_a_bad_emit_priority_is_refused(priority: object) -> None:
    raw = {"topic": "rank", "data": {}, "priority": priority}
    with pytest.raises(InvalidEmit, match="step 'Seed': emit of 'rank': 'priority' must be"):
        parse_emit(raw, "trace", [], step="Seed")


def test_an_emit_priority_in_range_is_kept() -> None:
    assert parse_emit({"topic": "t", "data": 1, "priority": -1000}, "tr", []).priority == -1000
    assert parse_emit({"topic": "t", "data": 1}, "tr", []).priority is None
