"""One `motia start` server for cron, JSON logs and `motia emit`; plus LOG_LEVEL / --debug."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli._support import json_records, run_motia, running
from tests.conftest import ServerProcess, wait_for, write_project

LOG_STEP = """
config = {
    "type": "api",
    "name": "LogStep",
    "method": "GET",
    "path": "/log",
    "emits": [],
    "flows": ["orders"],
}


async def handler(req, ctx):
    ctx.logger.info("order placed", {"orderId": 42, "customer": "ada"})
    ctx.logger.debug("debug detail", {"verbose": True})
    ctx.logger.warning("low stock", {"sku": "sku-1"})
    return {"status": 200, "body": {"traceId": ctx.trace_id}}
"""

PROJECT: dict[str, str] = {
    "steps/api/log_step.py": LOG_STEP,
    "steps/cron/tick_step.py": """
        config = {
            "type": "cron",
            "name": "Tick",
            "cron": "*/1 * * * * *",
            "emits": ["tick.happened"],
            "flows": ["clock"],
        }


        async def handler(ctx):
            ctx.logger.info("tick")
            await ctx.emit({"topic": "tick.happened", "data": {"tickTrace": ctx.trace_id}})
        """,
    "steps/events/on_tick_step.py": """
        config = {"type": "event", "name": "OnTick", "subscribes": ["tick.happened"], "emits": []}


        async def handler(input_data, ctx):
            ctx.logger.info("tick received", {"tickTrace": input_data["tickTrace"]})
        """,
    "steps/events/on_external_step.py": """
        config = {
            "type": "event",
            "name": "OnExternal",
            "subscribes": ["external.topic"],
            "emits": [],
        }


        async def handler(input_data, ctx):
            ctx.logger.info("external received", {"payload": input_data})
        """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    project = write_project(tmp_path_factory.mktemp("runtime"), PROJECT)
    # the default level: ignore a LOG_LEVEL the test run itself may have
    env = {"LOG_LEVEL": "", "MOTIA_LOG_LEVEL": "", "MOTIA_WORKBENCH_TOKEN": TOKEN}
    with running(project, "start", env=env) as server:
        yield server


TOKEN = "runtime-logs-token-0123456789"


def records(server: ServerProcess, msg: str) -> list[dict[str, Any]]:
    return [r for r in json_records(server.output()) if r.get("msg") == msg]


def ticks(server: ServerProcess) -> list[dict[str, Any]]:
    return [r for r in records(server, "tick") if r.get("step") == "Tick"]


def test_six_field_cron_fires_every_second(server: ServerProcess) -> None:
    wait_for(lambda: len(ticks(server)) >= 2, timeout=4)
    first, second = ticks(server)[:2]
    assert 400 <= second["time"] - first["time"] <= 1900


def test_each_cron_tick_has_its_own_trace_id(server: ServerProcess) -> None:
    wait_for(lambda: len(ticks(server)) >= 2, timeout=4)
    trace_ids = [r["traceId"] for r in ticks(server)]
    assert all(isinstance(t, str) and t for t in trace_ids)
    assert len(set(trace_ids)) == len(trace_ids), trace_ids


def test_cron_handler_emits_to_event_step(server: ServerProcess) -> None:
    received = wait_for(lambda: records(server, "tick received"), timeout=4)
    assert isinstance(received, list)
    tick_traces = {r["traceId"] for r in ticks(server)}
    event = received[0]
    assert event["step"] == "OnTick"
    assert event["tickTrace"] in tick_traces
    assert event["traceId"] == event["tickTrace"]  # the event runs in the tick's trace


def test_start_logs_are_json_lines_with_context_and_fields(server: ServerProcess) -> None:
    response = server.client.get("/log")
    assert response.status_code == 200
    trace_id = response.json()["traceId"]
    lines = wait_for(
        lambda: [r for r in records(server, "order placed") if r.get("traceId") == trace_id]
    )
    assert isinstance(lines, list)
    record = lines[0]
    assert record["level"] == "info"
    assert isinstance(record["time"], int)
    assert record["step"] == "LogStep"
    assert record["flows"] == ["orders"]
    assert record["orderId"] == 42
    assert record["customer"] == "ada"


def test_logger_warning_is_an_alias_of_warn(server: ServerProcess) -> None:
    trace_id = server.client.get("/log").json()["traceId"]
    lines = wait_for(
        lambda: [r for r in records(server, "low stock") if r.get("traceId") == trace_id]
    )
    assert isinstance(lines, list)
    assert lines[0]["level"] == "warn"
    assert lines[0]["sku"] == "sku-1"


def test_default_log_level_hides_debug(server: ServerProcess) -> None:
    trace_id = server.client.get("/log").json()["traceId"]
    # the warning is logged after the debug line, so once it is out the debug line would be too
    wait_for(lambda: [r for r in records(server, "low stock") if r.get("traceId") == trace_id])
    assert not records(server, "debug detail")
    assert all(r.get("level") != "debug" for r in json_records(server.output()))


def test_motia_emit_delivers_to_subscriber(server: ServerProcess) -> None:
    # `motia start` serves /emit only with the workbench token, which `motia emit` sends.
    emit = ("emit", "--topic", "external.topic", "--message", '{"a":1}', "--port", str(server.port))
    refused = run_motia(*emit, env={"MOTIA_WORKBENCH_TOKEN": ""})
    assert refused.returncode == 1
    assert "refused the event (401): pass --token or set MOTIA_WORKBENCH_TOKEN" in refused.stderr
    result = run_motia(*emit, env={"MOTIA_WORKBENCH_TOKEN": TOKEN})
    assert result.returncode == 0, result.stdout + result.stderr
    received = wait_for(lambda: records(server, "external received"))
    assert isinstance(received, list)
    assert received[0]["step"] == "OnExternal"
    assert received[0]["payload"] == {"a": 1}


def test_motia_emit_schedules_and_replaces_by_key(server: ServerProcess) -> None:
    env = {"MOTIA_WORKBENCH_TOKEN": TOKEN}
    base = ("emit", "--topic", "external.topic", "--port", str(server.port), "--key", "cli-k")
    first = run_motia(*base, "--message", '{"n":1}', "--delay", "1.5", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    # The same key replaces the pending one: only the second is ever delivered.
    second = run_motia(*base, "--message", '{"n":2}', "--delay", "0.2", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(second.stdout)["id"] != json.loads(first.stdout)["id"]
    received = wait_for(
        lambda: [r for r in records(server, "external received") if "n" in r["payload"]]
    )
    assert isinstance(received, list)
    assert [r["payload"] for r in received] == [{"n": 2}]
    time.sleep(2)  # past the first one's time: it must not come
    assert [r["payload"] for r in records(server, "external received") if "n" in r["payload"]] == [
        {"n": 2}
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--delay", "1", "--at", "2030-01-01T00:00:00Z"), "give --delay or --at, not both"),
        (("--at", "next tuesday"), "'at'"),
        (("--delay", "-1"), "Invalid value for '--delay'"),
    ],
    ids=["both", "bad-at", "negative-delay"],
)
def test_motia_emit_refuses_a_bad_schedule(
    server: ServerProcess, extra: tuple[str, ...], message: str
) -> None:
    emit = ("emit", "--topic", "external.topic", "--port", str(server.port), *extra)
    result = run_motia(*emit, env={"MOTIA_WORKBENCH_TOKEN": TOKEN})
    assert result.returncode in (1, 2)
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [((), {"LOG_LEVEL": "debug"}), (("--debug",), {})],
    ids=["LOG_LEVEL=debug", "--debug"],
)
def test_debug_lines_shown_when_asked(
    server_factory: Callable[..., ServerProcess],
    tmp_path: Path,
    args: tuple[str, ...],
    env: dict[str, str],
) -> None:
    project = write_project(tmp_path / "project", {"steps/log_step.py": LOG_STEP})
    server = server_factory(project, "start", *args, env=env)
    trace_id = server.client.get("/log").json()["traceId"]
    lines = wait_for(
        lambda: [r for r in records(server, "debug detail") if r.get("traceId") == trace_id]
    )
    assert isinstance(lines, list)
    assert lines[0]["level"] == "debug"
    assert lines[0]["verbose"] is True
