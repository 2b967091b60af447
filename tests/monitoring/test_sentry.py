"""Error tracking: a real `motia start` reports handler failures, dead letters and 500
answers to a Sentry DSN (a local stand-in for Sentry), tagged with the step, topic, trace
id and attempt, with no request body unless asked and secret keys masked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from motia.testing import create_tester
from tests.conftest import ServerProcess, wait_for, write_project
from tests.monitoring.sentry_support import Collector, exception_of, sentry_collector, tags_of

pytestmark = pytest.mark.slow

STEPS = {
    "steps/checkout_step.py": """
        config = {
            "type": "api",
            "name": "Checkout",
            "method": "POST",
            "path": "/checkout",
            "emits": ["order.placed"],
        }

        async def handler(req, ctx):
            if req["body"].get("fail"):
                raise RuntimeError("payment gateway refused")
            await ctx.emit({"topic": "order.placed", "data": {"token": "evt-secret-value"}})
            return {"status": 202, "body": {"ok": True}}
    """,
    "steps/ship_step.py": """
        config = {
            "type": "event",
            "name": "Ship",
            "subscribes": ["order.placed"],
            "emits": [],
            "infrastructure": {"queue": {"maxRetries": 0}},
        }

        async def handler(data, ctx):
            raise ValueError("no courier for this address")
    """,
    "steps/tenant_step.py": """
        config = {
            "type": "api",
            "name": "TenantLimited",
            "method": "GET",
            "path": "/tenant",
            "emits": [],
            "rateLimit": {"requests": 5, "per": "1m", "by": lambda req: 1 / 0},
        }

        async def handler(req, ctx):
            return {"status": 200, "body": {}}
    """,
}
BODY = {"fail": True, "password": "hunter2-secret", "note": "body-marker"}


@pytest.fixture
def collector() -> Iterator[Collector]:
    with sentry_collector() as found:
        yield found


def _serve(
    server_factory: Callable[..., ServerProcess],
    tmp_path: Path,
    collector: Collector,
    config: str = "",
    extra_env: dict[str, str] | None = None,
) -> ServerProcess:
    files = dict(STEPS)
    if config:
        files["config.yml"] = config
    project = write_project(tmp_path / "project", files)
    env = {"SENTRY_DSN": collector.dsn, "SENTRY_ENVIRONMENT": "staging", **(extra_env or {})}
    return server_factory(project, "start", env=env)


def _event(collector: Collector, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    found = wait_for(
        lambda: next((e for e in collector.events if match(e)), None),
        what=f"a Sentry event; got {[exception_of(e) or e['tags'] for e in collector.events]}",
    )
    assert isinstance(found, dict)
    return found


def test_a_500_is_reported_with_its_step_and_trace_id_and_no_body(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, collector: Collector
) -> None:
    server = _serve(server_factory, tmp_path, collector)
    response = server.client.post("/checkout", json=BODY)
    assert response.status_code == 500
    trace_id = response.headers["x-trace-id"]
    event = _event(collector, lambda e: tags_of(e).get("trace_id") == trace_id)
    assert exception_of(event) == ("RuntimeError", "payment gateway refused")
    tags = tags_of(event)
    assert (tags["step"], tags["kind"], tags["http_status"]) == ("Checkout", "api", "500")
    assert event["environment"] == "staging"
    assert event["request"] == {"method": "POST", "url": "/checkout"}
    envelopes = b"".join(collector.raw)
    assert b"body-marker" not in envelopes and b"hunter2-secret" not in envelopes


def test_a_failing_rate_limit_key_is_reported_as_a_500_of_its_step(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, collector: Collector
) -> None:
    server = _serve(server_factory, tmp_path, collector)
    response = server.client.get("/tenant")
    assert response.status_code == 500
    trace_id = response.headers["x-trace-id"]
    event = _event(collector, lambda e: tags_of(e).get("trace_id") == trace_id)
    assert exception_of(event) == ("ZeroDivisionError", "division by zero")
    assert (tags_of(event)["step"], tags_of(event)["http_status"]) == ("TenantLimited", "500")


def test_an_event_failure_and_its_dead_letter_carry_topic_and_attempt(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, collector: Collector
) -> None:
    server = _serve(server_factory, tmp_path, collector)
    response = server.client.post("/checkout", json={"fail": False})
    assert response.status_code == 202
    trace_id = response.headers["x-trace-id"]

    def of_trace(event: dict[str, Any]) -> bool:
        return tags_of(event).get("trace_id") == trace_id

    failed = _event(collector, lambda e: of_trace(e) and exception_of(e) is not None)
    assert exception_of(failed) == ("ValueError", "no courier for this address")
    dead = _event(collector, lambda e: of_trace(e) and tags_of(e).get("dead_letter") == "true")
    for event in (failed, dead):
        tags = tags_of(event)
        assert (tags["step"], tags["kind"], tags["topic"], tags["attempt"]) == (
            "Ship",
            "event",
            "order.placed",
            "1",
        )
    message = dead.get("logentry", {}).get("message") or dead.get("message")
    assert message.startswith("Ship: event moved to the dead-letter queue (handler failed)")
    assert b"evt-secret-value" not in b"".join(collector.raw)


def test_request_bodies_are_sent_only_when_asked_and_masked(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, collector: Collector
) -> None:
    config = "sentry:\n  requestBodies: true\nlogs:\n  redactAlso: [note]\n"
    server = _serve(server_factory, tmp_path, collector, config)
    body = {**BODY, "profile": {"name": "ada", "api-key": "k-123"}}
    response = server.client.post("/checkout", json=body)
    trace_id = response.headers["x-trace-id"]
    event = _event(collector, lambda e: tags_of(e).get("trace_id") == trace_id)
    assert event["request"]["data"] == {
        "fail": True,
        "password": "[redacted]",
        "note": "[redacted]",
        "profile": {"name": "ada", "api-key": "[redacted]"},
    }
    envelopes = b"".join(collector.raw)
    for secret in (b"hunter2-secret", b"body-marker", b"k-123"):
        assert secret not in envelopes


def test_reports_are_sent_before_the_server_exits(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, collector: Collector
) -> None:
    server = _serve(server_factory, tmp_path, collector)
    response = server.client.post("/checkout", json=BODY)
    assert response.status_code == 500
    assert server.stop() == 0
    trace_id = response.headers["x-trace-id"]
    assert any(tags_of(e).get("trace_id") == trace_id for e in collector.events)


def test_an_invalid_dsn_stops_the_server_with_a_clear_error(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", STEPS)
    server = server_factory(project, "start", env={"SENTRY_DSN": "not-a-dsn"}, wait=False)
    assert server.process.wait(30) != 0
    assert "sentry.dsn (SENTRY_DSN) is not a valid Sentry DSN" in server.output()


def test_a_dsn_without_the_sdk_installed_names_the_extra(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    # An importable `sentry_sdk` that fails, as on a machine without the extra.
    missing = write_project(
        tmp_path / "no-sdk", {"sentry_sdk/__init__.py": "raise ImportError('no sentry_sdk')"}
    )
    project = write_project(tmp_path / "project", STEPS)
    pythonpath = os.pathsep.join(filter(None, [str(missing), os.environ.get("PYTHONPATH")]))
    server = server_factory(
        project,
        "start",
        env={"SENTRY_DSN": "http://public@127.0.0.1:9/1", "PYTHONPATH": pythonpath},
        wait=False,
    )
    assert server.process.wait(30) != 0
    assert "pip install 'motia-python[sentry]'" in server.output()


def test_without_a_dsn_the_sdk_is_never_imported(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", STEPS)
    script = f"""
import sys
from pathlib import Path
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
settings = load_settings(Path({str(project)!r}), "start", environ={{}}, state_adapter="memory",
                         queue_adapter="memory")
runtime = Runtime.load(settings)
assert runtime.error_reporter is None
print("sentry_sdk" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


async def test_the_test_kit_never_reports_to_the_projects_sentry(
    tmp_path: Path, collector: Collector
) -> None:
    files = {**STEPS, "config.yml": f"sentry:\n  dsn: {collector.dsn}\n"}
    project = write_project(tmp_path / "project", files)
    async with create_tester(project) as tester:
        assert tester.runtime.settings.sentry_dsn is None
        assert tester.runtime.error_reporter is None
