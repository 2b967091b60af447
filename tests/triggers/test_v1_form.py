"""The 1.0 step form: triggers, conditions, the trigger-aware context, and clear errors
for bad configs. Classic steps in the same project keep working."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia import cron, http, queue, state, stream
from motia.errors import Problem
from motia.runtime.hooks import Run, RunEnd, RunHooks
from motia.runtime.loading import load_project
from motia.testing import create_tester
from tests.conftest import write_project

MULTI = """
from motia import cron, http, queue

def big_enough(data, ctx):
    return data["amount"] > 10

async def verified(req, ctx):
    return req["body"].get("verified", True)

config = {
    "name": "Orders",
    "flows": ["orders"],
    "triggers": [
        http("POST", "/orders", condition=verified),
        queue("order.placed", condition=big_enough, config={"type": "fifo", "maxRetries": 1}),
        cron("0 0 * * * *"),
    ],
    "enqueues": ["order.placed"],
}

async def handler(input, ctx):
    if ctx.is_api():
        await ctx.enqueue({"topic": "order.placed", "data": ctx.get_data()})
        return {"status": 201, "body": {"trigger": ctx.trigger, "input": input["body"]}}
    kind = ctx.match({
        "queue": lambda data: "queue:" + str(data["amount"]),
        "default": lambda data: ctx.trigger["type"],
    })
    seen = await ctx.state.get("seen", "runs") or []
    await ctx.state.set("seen", "runs", seen + [kind])
"""

CLASSIC = """
config = {"type": "event", "name": "Classic", "subscribes": ["order.placed"], "emits": []}

async def handler(data, ctx):
    await ctx.state.set("classic", str(data["amount"]), True)
"""


def test_helpers_return_the_trigger_dicts() -> None:
    check = lambda d, c: True  # noqa: E731
    assert http("get", "/a", body_schema={"type": "object"}, auth=False) == {
        "type": "http",
        "method": "get",
        "path": "/a",
        "bodySchema": {"type": "object"},
        "auth": False,
    }
    assert queue("t", condition=check) == {"type": "queue", "topic": "t", "condition": check}
    assert cron("0 * * * * *") == {"type": "cron", "expression": "0 * * * * *"}
    assert state(group="orders") == {"type": "state", "group": "orders"}
    assert stream("todos") == {"type": "stream", "streamName": "todos"}


async def test_one_handler_serves_http_queue_and_cron(tmp_path: Path) -> None:
    write_project(tmp_path, {"steps/orders_step.py": MULTI, "steps/classic_step.py": CLASSIC})
    async with create_tester(tmp_path) as tester:
        placed = tester.watch("order.placed")
        answer = await tester.post("/orders", json={"amount": 20})
        assert answer.status_code == 201
        assert answer.json() == {
            "trigger": {"type": "http", "method": "POST", "path": "/orders"},
            "input": {"amount": 20},
        }
        await tester.wait_until_idle()
        assert placed.count == 1
        assert await tester.state.get("seen", "runs") == ["queue:20"]
        # The classic step on the same topic still runs, beside the 1.0 one.
        assert await tester.state.get("classic", "20") is True

        await tester.run_cron("Orders.cron")
        await tester.wait_until_idle()
        assert await tester.state.get("seen", "runs") == ["queue:20", "cron"]


async def test_a_false_condition_skips_the_run(tmp_path: Path) -> None:
    write_project(tmp_path, {"steps/orders_step.py": MULTI})
    async with create_tester(tmp_path) as tester:
        ends = Ends()
        tester.runtime.add_hooks(ends)
        refused = await tester.post("/orders", json={"amount": 20, "verified": False})
        assert refused.status_code == 204
        await tester.emit({"topic": "order.placed", "data": {"amount": 3}})
        await tester.wait_until_idle()
        assert await tester.state.get("seen", "runs") is None
        assert await tester.dead_letters() == []
        assert ends.statuses == [("Orders.http", "skipped"), ("Orders.queue", "skipped")]


class Ends(RunHooks):
    def __init__(self) -> None:
        self.statuses: list[tuple[str, str]] = []

    def run_ended(self, run: Run, end: RunEnd) -> None:
        self.statuses.append((run.step.name, end.status))


def _problems(root: Path) -> list[Problem]:
    return [p for p in load_project(root).problems if p.is_error]


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


@pytest.mark.parametrize(
    ("trigger", "field", "message"),
    [
        ('{"type": "webhook"}', "triggers[0].type", "unknown trigger type 'webhook'"),
        ('{"type": "queue"}', "triggers[0].topic", "a queue trigger needs 'topic'"),
        ('{"type": "http", "method": "GET"}', "triggers[0].path", "needs 'path'"),
        ('{"type": "stream"}', "triggers[0].streamName", "needs 'streamName'"),
        (
            '{"type": "queue", "topic": "t", "condition": True}',
            "triggers[0].condition",
            "condition must be a function",
        ),
        (
            '{"type": "cron", "expression": "every minute"}',
            "triggers[0].expression",
            "invalid cron expression",
        ),
        (
            '{"type": "http", "method": "GET", "path": "x"}',
            "triggers[0].path",
            "must start with '/'",
        ),
        (
            '{"type": "queue", "topic": "t", "config": {"type": "lifo"}}',
            "triggers[0].config.type",
            "",
        ),
        ('{"type": "state", "groop": "x"}', "triggers[0].groop", "unknown field"),
        (
            '{"type": "http", "method": "GET", "path": "/x", "executor": "process"}',
            "triggers[0].executor",
            "'executor' is for classic steps",
        ),
    ],
)
def test_bad_trigger_names_file_step_and_field(
    tmp_path: Path, trigger: str, field: str, message: str
) -> None:
    write_project(
        tmp_path,
        {
            "steps/bad_step.py": f"""
                config = {{"name": "Bad", "triggers": [{trigger}]}}
                async def handler(input, ctx): ...
            """
        },
    )
    problem = _only(_problems(tmp_path))
    assert (str(problem.file), problem.step, problem.field) == ("steps/bad_step.py", "Bad", field)
    assert message in problem.message
    assert f"steps/bad_step.py, step 'Bad', field '{field}'" in str(problem)


def test_empty_triggers_and_classic_keys_are_errors(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/a_step.py": """
                config = {"name": "A", "triggers": []}
                async def handler(input, ctx): ...
            """,
            "steps/b_step.py": """
                config = {"name": "B", "triggers": [{"type": "queue", "topic": "t"}],
                          "emits": ["x"]}
                async def handler(input, ctx): ...
            """,
        },
    )
    problems = {(p.step, p.field) for p in _problems(tmp_path)}
    assert problems == {("A", "triggers"), ("B", "emits")}


def test_a_trigger_that_is_not_a_dict_is_an_error(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/a_step.py": """
                config = {"name": "A", "triggers": ["http"]}
                async def handler(input, ctx): ...
            """
        },
    )
    problem = _only(_problems(tmp_path))
    assert problem.field == "triggers[0]" and "must be a dict" in problem.message


async def test_sync_handler_and_async_condition(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/s_step.py": """
                async def wanted(data, ctx):
                    return data["n"] % 2 == 0

                config = {"name": "S", "triggers": [
                    {"type": "queue", "topic": "n", "condition": wanted}]}

                def handler(data, ctx):
                    assert ctx.is_queue() and not ctx.is_api() and ctx.get_data() == data
                    ctx.state.set("n", str(data["n"]), ctx.trigger)
            """
        },
    )
    async with create_tester(tmp_path) as tester:
        for n in range(4):
            await tester.emit({"topic": "n", "data": {"n": n}})
        await tester.wait_until_idle()
        assert sorted(await tester.state.items("n")) == ["0", "2"]
        assert await tester.state.get("n", "0") == {"type": "queue", "topic": "n"}


async def test_match_without_a_function_for_the_trigger_fails_the_run(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/m_step.py": """
                config = {"name": "M", "triggers": [{"type": "http", "method": "GET",
                                                     "path": "/m"}]}
                async def handler(req, ctx):
                    return ctx.match({"queue": lambda d: None})
            """
        },
    )
    async with create_tester(tmp_path) as tester:
        answer = await tester.get("/m")
        assert answer.status_code == 500
        assert any("no function for trigger type 'http'" in str(r) for r in tester.logs)


async def test_a_motia_1_project_layout_loads_beside_classic_files(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            # The engine config of a Motia 1.0 project: its modules are not our settings.
            "config.yaml": """
                modules:
                  - class: modules::api::RestApiModule
                    config:
                      port: 3111
            """,
            "src/hello.step.py": """
                from motia import api

                config = {"name": "Hello", "triggers": [api("GET", "/hello")]}

                async def handler(request, ctx):
                    return {"status": 200, "body": {"hi": ctx.trigger["path"]}}
            """,
            "steps/old.step.py": """
                config = {"type": "event", "name": "Old", "subscribes": ["x"]}
                async def handler(data, ctx): ...
            """,
            "steps/classic_step.py": """
                config = {"type": "api", "name": "Classic", "method": "GET", "path": "/c"}
                async def handler(req, ctx):
                    return {"status": 200, "body": "classic"}
            """,
        },
    )
    project = load_project(tmp_path)
    assert sorted(s.name for s in project.steps) == ["Classic", "Hello"]
    [warning] = project.warnings
    assert str(warning.file) == "steps/old.step.py" and "no longer loaded" in warning.message
    async with create_tester(tmp_path) as tester:
        assert (await tester.get("/hello")).json() == {"hi": "/hello"}
        classic = await tester.get("/c")
        assert classic.status_code == 200 and classic.text == "classic", classic.text


def test_a_config_yml_with_other_settings_still_checks_them(tmp_path: Path) -> None:
    from motia.errors import SettingsError
    from motia.settings import load_settings

    write_project(tmp_path, {"config.yml": "modules: []\nnope: 1\n"})
    with pytest.raises(SettingsError, match="nope"):
        load_settings(tmp_path, "dev")


def test_a_queue_trigger_nobody_feeds_is_warned_in_1_0_words(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/q_step.py": """
                from motia import http, queue
                config = {"name": "Q", "triggers": [http("GET", "/q"), queue("lonely")]}
                async def handler(input, ctx): ...
            """
        },
    )
    [warning] = load_project(tmp_path).warnings
    assert (warning.step, warning.field) == ("Q", "triggers[1].topic")
    assert "'lonely', which no step emits" in warning.message
