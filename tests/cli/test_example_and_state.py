"""The example project under `motia dev`, and state persistence across `motia start` runs."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, wait_for, write_project


def test_example_project_runs_under_dev(
    server_factory: Callable[..., ServerProcess], example_copy: Path
) -> None:
    server = server_factory(example_copy, "dev")
    created = server.client.post("/resources", json={"name": "notes.txt"})
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]

    def fetched() -> httpx.Response | None:
        response = server.client.get(f"/resources/{resource_id}")
        return response if response.status_code == 200 else None

    response = wait_for(fetched)
    assert isinstance(response, httpx.Response)
    assert response.json()["name"] == "notes.txt"


KV_STEPS: dict[str, str] = {
    "steps/put_step.py": """
        config = {
            "type": "api",
            "name": "PutValue",
            "method": "PUT",
            "path": "/kv/:key",
            "emits": [],
        }


        async def handler(req, ctx):
            await ctx.state.set("kv", req["pathParams"]["key"], req["body"])
            return {"status": 200, "body": {"stored": True}}
        """,
    "steps/get_step.py": """
        config = {
            "type": "api",
            "name": "GetValue",
            "method": "GET",
            "path": "/kv/:key",
            "emits": [],
        }


        async def handler(req, ctx):
            value = await ctx.state.get("kv", req["pathParams"]["key"])
            if value is None:
                return {"status": 404, "body": {"missing": True}}
            return {"status": 200, "body": value}
        """,
}


@pytest.mark.parametrize(
    ("flags", "stop_with", "persisted"),
    [
        ((), signal.SIGTERM, True),
        ((), signal.SIGKILL, True),  # a write is durable once the request has answered
        (("--memory",), signal.SIGTERM, False),
    ],
    ids=["sqlite-default", "sqlite-default-killed", "memory"],
)
def test_state_survives_restart_only_on_the_embedded_default(
    server_factory: Callable[..., ServerProcess],
    tmp_path: Path,
    flags: tuple[str, ...],
    stop_with: signal.Signals,
    persisted: bool,
) -> None:
    project = write_project(tmp_path / "project", KV_STEPS)
    value = {"colour": "teal", "count": 3}

    first = server_factory(project, "start", *flags)
    assert first.client.put("/kv/answer", json=value).status_code == 200
    assert first.client.get("/kv/answer").json() == value
    first.stop(stop_with)
    assert first.process.poll() is not None

    second = server_factory(project, "start", *flags)
    response = second.client.get("/kv/answer")
    if persisted:
        assert response.status_code == 200, response.text
        assert response.json() == value
        assert (project / ".motia" / "motia.db").is_file()
    else:
        assert response.status_code == 404, response.text
        assert not (project / ".motia" / "motia.db").exists()
