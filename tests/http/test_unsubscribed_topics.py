"""An event that no step subscribes to goes nowhere: `motia dev` warns once per topic,
whether a step, `POST /emit` or `motia emit` sent it; `motia start` stays quiet."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess, wait_for
from tests.http.support import module_server

pytestmark = pytest.mark.slow

STEPS = {
    "steps/order_step.py": """
        config = {"type": "api", "name": "PlaceOrder", "method": "POST", "path": "/orders",
                  "emits": ["order.placed", "order.plcaed"]}

        async def handler(req, ctx):
            await ctx.emit({"topic": "order.placed", "data": {}})
            await ctx.emit({"topic": "order.plcaed", "data": {}})
            return {"status": 202, "body": {"traceId": ctx.trace_id}}
    """,
    "steps/ship_step.py": """
        config = {"type": "event", "name": "Ship", "subscribes": ["order.placed"], "emits": []}

        async def handler(data, ctx):
            ctx.logger.info("shipping")
    """,
}
WARNING = "no step subscribes to topic '{}'"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "unsubscribed-dev", STEPS, "dev") as running:
        yield running


def warnings_for(server: ServerProcess, topic: str) -> list[str]:
    return [line for line in server.output().splitlines() if WARNING.format(topic) in line]


def test_a_step_emitting_an_unsubscribed_topic_is_warned_once(dev: ServerProcess) -> None:
    first = dev.client.post("/orders").json()["traceId"]
    dev.wait_for_output(WARNING.format("order.plcaed"))
    second = dev.client.post("/orders").json()["traceId"]
    wait_for(lambda: dev.output().count("shipping") >= 2)  # both requests were handled
    [line] = warnings_for(dev, "order.plcaed")
    assert "WARN" in line and first in line and second not in line
    assert warnings_for(dev, "order.placed") == []


def test_post_emit_answers_the_subscriber_count_and_warns_once(dev: ServerProcess) -> None:
    for _ in range(2):
        response = dev.client.post("/emit", json={"topic": "ghost.topic", "data": {}})
        assert response.status_code == 200 and response.json()["subscribers"] == 0
    dev.wait_for_output(WARNING.format("ghost.topic"))
    assert len(warnings_for(dev, "ghost.topic")) == 1
    response = dev.client.post("/emit", json={"topic": "order.placed", "data": {}})
    assert response.json()["subscribers"] == 1


def test_motia_emit_warns_the_user_too(dev: ServerProcess) -> None:
    command = [sys.executable, "-m", "motia", "emit", "--port", str(dev.port)]
    result = subprocess.run(
        [*command, "--topic", "cli.ghost"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert '"subscribers":0' in result.stdout.replace(" ", "")
    assert "warning: no step subscribes to topic 'cli.ghost'" in result.stderr
    dev.wait_for_output(WARNING.format("cli.ghost"))
    result = subprocess.run(
        [*command, "--topic", "order.placed"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == ""


def test_start_does_not_warn(tmp_path_factory: pytest.TempPathFactory) -> None:
    token = "start-mode-emit-token"  # POST /emit needs the workbench token in motia start
    files = {**STEPS, "config.yml": f"workbench:\n  token: {token}\n"}
    with module_server(tmp_path_factory, "unsubscribed-start", files) as server:
        response = server.client.post(
            "/emit",
            json={"topic": "ghost.topic", "data": {}},
            headers={"authorization": f"Bearer {token}"},
        )
        assert response.json()["subscribers"] == 0
        trace_id = server.client.post("/orders").json()["traceId"]
        wait_for(lambda: "shipping" in server.output())
        assert trace_id  # the emits were handled; no warning was printed for either topic
        assert "no step subscribes" not in server.output()
