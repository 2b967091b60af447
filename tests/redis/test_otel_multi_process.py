"""OpenTelemetry across two `motia start` processes sharing Redis: an event accepted on
one process and handled on the other is still the child of the emit that queued it, and
spans still buffered when a process stops are sent before it exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.otel.receiver import Received, running
from tests.otel.support import PROJECT, flow_spans, otel_env, traceparent
from tests.runners.support import require

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    yield from running()


def test_a_flow_handled_across_two_processes_is_one_trace(
    tmp_path: Path, redis_env: dict[str, str], servers: Servers, receiver: tuple[str, Received]
) -> None:
    require("node")
    endpoint, received = receiver
    project = write_project(tmp_path / "shop", PROJECT)
    # A minute between exports: what the receiver gets, it gets at shutdown.
    slow = {**redis_env, **otel_env(endpoint, delay_ms=60_000)}
    a = servers(project, env={**slow, "OTEL_RESOURCE_ATTRIBUTES": "test.server=a"})
    b = servers(project, env={**slow, "OTEL_RESOURCE_ATTRIBUTES": "test.server=b"})

    traces = [f"{i + 1:032x}" for i in range(8)]
    for trace_id in traces:
        response = a.client.post(
            "/orders/north",
            json={"id": trace_id, "sleep": 0.3},
            headers=traceparent(trace=trace_id),
        )
        assert response.status_code == 201, response.text
        assert response.json()["traceId"] == trace_id
    # One charge at a time per process: while A's is busy, B takes the next ones.
    # Each flow ends in a JavaScript log line, on either process.
    wait_for(
        lambda: sum(s.output().count('"msg":"notified"') for s in (a, b)) == len(traces),
        30,
        what="every flow's last step",
    )
    a.stop()
    b.stop()

    crossed = 0
    for trace_id in traces:
        spans = flow_spans(received, trace_id)
        assert spans["server"].resource["test.server"] == "a"
        assert spans["placed"].resource["test.server"] == "a"
        crossed += spans["charge"].resource["test.server"] == "b"
        assert spans["charge"].resource["service.name"] == "shop"
    print(f"flows whose event ran on the other process: {crossed} of {len(traces)}")
    assert crossed >= 1, "no event accepted on A was handled on B"


def test_every_worker_process_of_start_workers_sends_its_spans_at_shutdown(
    tmp_path: Path, redis_env: dict[str, str], servers: Servers, receiver: tuple[str, Received]
) -> None:
    require("node")
    endpoint, received = receiver
    project = write_project(tmp_path / "shop", PROJECT)
    supervisor = servers(
        project, "--workers", "2", env={**redis_env, **otel_env(endpoint, delay_ms=60_000)}
    )
    traces = [f"{i + 101:032x}" for i in range(6)]
    for trace_id in traces:
        response = supervisor.client.post(
            "/orders/south", json={"id": trace_id}, headers=traceparent(trace=trace_id)
        )
        assert response.status_code == 201, response.text
    wait_for(
        lambda: supervisor.output().count('"msg":"notified"') == len(traces),
        30,
        what="every flow's last step",
    )
    assert received.spans == []  # a minute between exports: nothing has gone yet
    supervisor.stop()
    for trace_id in traces:
        flow_spans(received, trace_id)
