"""OpenTelemetry export from real `motia start` processes to a real OTLP/HTTP receiver:
one flow (API → Python event → JavaScript event) is one trace, continuing the caller's
`traceparent`, with each span's parent where it belongs across the queue; `ctx.logger`
records arrive as logs of their run's span. With OTel off nothing of it is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.otel.receiver import Received, Span, running
from tests.otel.support import (
    CALLER_SPAN,
    CALLER_TRACE,
    PROJECT,
    flow_spans,
    one,
    otel_env,
    traceparent,
)
from tests.runners.support import require

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    yield from running()


def test_one_flow_through_python_and_javascript_is_one_trace_of_the_callers(
    tmp_path: Path, receiver: tuple[str, Received], server_factory: Callable[..., ServerProcess]
) -> None:
    require("node")
    endpoint, received = receiver
    project = write_project(tmp_path / "shop", PROJECT)
    server = server_factory(project, "start", env=otel_env(endpoint))

    response = server.client.post("/orders/north", json={"id": "o-1"}, headers=traceparent())
    assert response.status_code == 201, response.text
    assert response.json()["traceId"] == CALLER_TRACE  # ctx.trace_id is the caller's
    assert response.headers["x-trace-id"] == CALLER_TRACE
    version, trace_id, span_id, flags = response.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", CALLER_TRACE, "01")

    spans = flow_spans(received, CALLER_TRACE)
    server_span = spans["server"]
    assert server_span.parent_id == CALLER_SPAN  # the caller's span is the parent
    assert server_span.span_id == span_id  # the response names the request's span
    assert server_span.resource["service.name"] == "shop"  # the project folder's name

    logs = wait_for(
        lambda: (found := received.logs_of(CALLER_TRACE)) and len(found) >= 2 and found,
        10,
        what="the handlers' logs",
    )
    by_body = {log.body: log for log in logs}
    assert by_body["charging"].span_id == spans["charge"].span_id
    assert by_body["charging"].attributes["order"] == "o-1"
    assert by_body["charging"].attributes["motia.step"] == "Charge"
    assert by_body["charging"].severity == "INFO"
    assert by_body["notified"].span_id == spans["notify"].span_id

    # A handler's exception: recorded on the run's span; the request's span is an error.
    failed = server.client.get("/boom")
    assert failed.status_code == 500
    boom_trace = failed.headers["x-trace-id"]
    boom = wait_for(lambda: len(received.trace(boom_trace)) >= 2 and received.trace(boom_trace))
    run = one(boom, "api Boom")
    assert run.status == "ERROR" and "the handler broke" in run.status_message
    assert run.attributes["motia.outcome"] == "failed"
    exception = dict(run.events)["exception"]
    assert exception["exception.type"] == "RuntimeError"
    assert "the handler broke" in exception["exception.stacktrace"]
    request = one(boom, "GET /boom")
    assert request.status == "ERROR"
    assert request.attributes["http.response.status_code"] == 500
    assert request.parent_id == ""  # no traceparent: the request starts its trace


def test_an_invalid_traceparent_starts_a_new_trace(
    tmp_path: Path, receiver: tuple[str, Received], server_factory: Callable[..., ServerProcess]
) -> None:
    endpoint, received = receiver
    project = write_project(
        tmp_path / "shop", {"steps/boom_step.py": PROJECT["steps/boom_step.py"]}
    )
    server = server_factory(project, "start", env=otel_env(endpoint))
    response = server.client.get(
        "/boom", headers={"traceparent": f"00-{'0' * 32}-{CALLER_SPAN}-01"}
    )
    trace_id = response.headers["x-trace-id"]
    assert trace_id != "0" * 32 and len(trace_id) == 32
    assert response.headers["traceparent"].split("-")[1] == trace_id
    request = wait_for(
        lambda: received.trace(trace_id) and one(received.trace(trace_id), "GET /boom")
    )
    assert request.parent_id == ""


def test_without_otel_the_callers_trace_id_is_still_kept_and_nothing_is_exported(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(
        tmp_path / "shop", {"steps/boom_step.py": PROJECT["steps/boom_step.py"]}
    )
    env = {key: "" for key in os.environ if key.startswith("OTEL_")}
    server = server_factory(project, "start", env=env)
    response = server.client.get("/boom", headers=traceparent())
    assert response.headers["x-trace-id"] == CALLER_TRACE
    assert response.json()["traceId"] == CALLER_TRACE
    assert "traceparent" not in response.headers  # no span to name
    malformed = server.client.get("/boom", headers={"traceparent": "00-not-a-trace-01"})
    assert malformed.headers["x-trace-id"] != CALLER_TRACE


NOTHING_IMPORTED_SCRIPT = """
import asyncio, sys, threading
from pathlib import Path
from motia.http.app import MotiaApp
from motia.runtime.runtime import Runtime
from motia.settings import load_settings

async def main():
    runtime = Runtime.load(load_settings(Path(sys.argv[1]), mode="start"))
    MotiaApp(runtime)
    await runtime.start()
    loaded = [name for name in sys.modules if name.startswith("opentelemetry")]
    threads = [t.name for t in threading.enumerate() if t.name.startswith(("Otel", "motia-otlp"))]
    print("modules", len(loaded), "hooks", len(runtime.hooks._hooks), "threads", threads)
    await runtime.stop()

asyncio.run(main())
"""


@pytest.mark.parametrize("exporting", [False, True])
def test_without_otel_nothing_of_opentelemetry_is_imported_or_started(
    tmp_path: Path, exporting: bool
) -> None:
    project = write_project(
        tmp_path / "shop", {"steps/boom_step.py": PROJECT["steps/boom_step.py"]}
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if exporting:  # the same check sees the SDK when it is on
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"
        env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", NOTHING_IMPORTED_SCRIPT, str(project)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    if exporting:
        assert "hooks 1 threads ['motia-otlp-spans', 'OtelBatchLogRecordProcessor']" in (
            done.stdout
        ), done.stdout
        assert "modules 0" not in done.stdout
    else:
        assert "modules 0 hooks 0 threads []" in done.stdout, done.stdout


def test_otel_sdk_disabled_and_an_unsupported_protocol(
    tmp_path: Path, receiver: tuple[str, Received], server_factory: Callable[..., ServerProcess]
) -> None:
    endpoint, received = receiver
    project = write_project(
        tmp_path / "shop", {"steps/boom_step.py": PROJECT["steps/boom_step.py"]}
    )
    off = server_factory(project, "start", env=otel_env(endpoint, OTEL_SDK_DISABLED="true"))
    assert "traceparent" not in off.client.get("/boom").headers
    off.stop()
    assert received.posts == []

    grpc = otel_env(endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="grpc")
    refused = server_factory(project, "start", env=grpc, wait=False)
    assert refused.process.wait(30) != 0
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='grpc' is not supported" in refused.output()


RETRY_AND_CRON = {
    "steps/tick_step.py": """
        config = {"type": "cron", "name": "Tick", "cron": "* * * * * *", "emits": ["job"]}

        async def handler(ctx):
            if await ctx.state.get("ticks", "done") is None:
                await ctx.state.set("ticks", "done", True)
                await ctx.emit({"topic": "job", "data": {"id": "j-1"}})
    """,
    "steps/flaky_step.py": """
        config = {
            "type": "event", "name": "Flaky", "subscribes": ["job"], "emits": [],
            "infrastructure": {"queue": {"maxRetries": 1, "backoff": {"delay": 0.1}}},
        }

        async def handler(data, ctx):
            if ctx.attempt == 1:
                raise ValueError("first attempt fails")
    """,
}


def test_a_cron_run_starts_a_trace_and_a_failed_attempt_is_an_error_span(
    tmp_path: Path, receiver: tuple[str, Received], server_factory: Callable[..., ServerProcess]
) -> None:
    endpoint, received = receiver
    project = write_project(tmp_path / "jobs", RETRY_AND_CRON)
    server_factory(project, "start", env=otel_env(endpoint))

    def flaky_runs() -> list[Span]:
        with received.lock:
            return [span for span in received.spans if span.name == "event Flaky"]

    first, second = sorted(
        wait_for(lambda: len(runs := flaky_runs()) >= 2 and runs, 15, what="two attempts"),
        key=lambda span: span.attributes["motia.attempt"],
    )
    spans = received.trace(first.trace_id)
    tick = one(spans, "cron Tick")
    emit = one(spans, "emit job")
    assert tick.parent_id == "" and tick.attributes["motia.outcome"] == "ok"
    assert emit.parent_id == tick.span_id and emit.kind == "PRODUCER"
    # Both attempts are children of the one emit.
    assert first.parent_id == second.parent_id == emit.span_id
    assert first.status == "ERROR" and first.attributes["motia.outcome"] == "retrying"
    events = dict(first.events)
    assert events["exception"]["exception.type"] == "ValueError"
    assert events["motia.retry"]["motia.retry.delay"] > 0
    assert second.status == "UNSET" and second.attributes["motia.outcome"] == "ok"
    assert second.attributes["motia.attempt"] == 2


@pytest.mark.parametrize("exporting", [False, True])
def test_with_accept_traceparent_off_every_request_starts_its_own_trace(
    tmp_path: Path,
    receiver: tuple[str, Received],
    server_factory: Callable[..., ServerProcess],
    exporting: bool,
) -> None:
    endpoint, received = receiver
    project = write_project(
        tmp_path / "shop", {"steps/boom_step.py": PROJECT["steps/boom_step.py"]}
    )
    env = otel_env(endpoint) if exporting else {"OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    server = server_factory(project, "start", env={**env, "MOTIA_ACCEPT_TRACEPARENT": "false"})
    response = server.client.get("/boom", headers=traceparent())
    trace_id = response.headers["x-trace-id"]
    assert trace_id != CALLER_TRACE and response.json()["traceId"] == trace_id
    if exporting:
        request = wait_for(
            lambda: received.trace(trace_id) and one(received.trace(trace_id), "GET /boom")
        )
        assert request.parent_id == ""  # the caller's span is not its parent either
        assert received.trace(CALLER_TRACE) == []
