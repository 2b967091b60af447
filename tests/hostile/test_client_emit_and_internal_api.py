"""`POST /emit` and the internal API in `motia start`, from a client on the network: /emit
is off without a token and needs it with one; the trailing-slash redirect does not echo the
client's Host; the internal API keeps to `http.maxBodySize`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli._support import run_motia
from tests.conftest import ServerProcess, wait_for, write_project

pytestmark = pytest.mark.slow
Factory = Callable[..., ServerProcess]
TOKEN = "emit-token-0123456789abcdef"
JSON = {"content-type": "application/json"}

PROJECT = {
    "config.yml": "http:\n  maxBodySize: 1kb\n",
    "steps/hit_step.py": """
        config = {"type": "event", "name": "Hit", "subscribes": ["hit"], "emits": []}

        async def handler(data, ctx):
            await ctx.state.set("hits", data["id"], data)
    """,
    "steps/hits_step.py": """
        config = {"type": "api", "name": "Hits", "method": "GET", "path": "/hits/:id",
                  "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": await ctx.state.get("hits", req["pathParams"]["id"])}
    """,
}


def hit(server: ServerProcess, key: str) -> object:
    response = server.client.get(f"/hits/{key}")
    assert response.status_code == 200
    return response.json() if response.content else None


def test_emit_is_off_in_start_without_a_token(tmp_path: Path, server_factory: Factory) -> None:
    server = server_factory(write_project(tmp_path / "project", PROJECT), "start")
    response = server.client.post("/emit", json={"topic": "hit", "data": {"id": "a"}})
    assert response.status_code == 404
    assert "needs a workbench token" in response.json()["error"]
    result = run_motia(
        "emit",
        "-t",
        "hit",
        "-m",
        '{"id": "a"}',
        "-p",
        str(server.port),
        env={"MOTIA_WORKBENCH_TOKEN": ""},
    )
    assert result.returncode == 1 and "(404)" in result.stderr
    assert hit(server, "a") is None


def test_emit_in_start_needs_the_token_and_motia_emit_sends_it(
    tmp_path: Path, server_factory: Factory
) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    server = server_factory(project, "start", env={"MOTIA_WORKBENCH_TOKEN": TOKEN})
    event = {"topic": "hit", "data": {"id": "b"}}
    assert server.client.post("/emit", json=event).status_code == 401
    wrong = {"authorization": "Bearer " + "x" * len(TOKEN)}
    assert server.client.post("/emit", json=event, headers=wrong).status_code == 401
    # A browser page of another site is refused even with the token in the address.
    cross = server.client.post(
        f"/emit?token={TOKEN}", json=event, headers={"sec-fetch-site": "cross-site"}
    )
    assert cross.status_code == 403
    form = server.client.post(f"/emit?token={TOKEN}", data={"topic": "hit", "data": "x"})
    assert form.status_code == 415
    assert hit(server, "b") is None

    emit = ("emit", "-t", "hit", "-m", '{"id": "b"}', "-p", str(server.port))
    refused = run_motia(*emit, env={"MOTIA_WORKBENCH_TOKEN": ""})
    assert refused.returncode == 1
    assert "pass --token or set MOTIA_WORKBENCH_TOKEN" in refused.stderr
    accepted = run_motia(*emit, "--token", TOKEN, env={"MOTIA_WORKBENCH_TOKEN": ""})
    assert accepted.returncode == 0, accepted.stderr
    assert wait_for(lambda: hit(server, "b")) == {"id": "b"}
    bearer = {"authorization": f"Bearer {TOKEN}"}
    event["data"] = {"id": "c"}
    assert server.client.post("/emit", json=event, headers=bearer).status_code == 200
    assert wait_for(lambda: hit(server, "c")) == {"id": "c"}


def test_the_trailing_slash_redirect_is_relative(tmp_path: Path, server_factory: Factory) -> None:
    project = write_project(tmp_path / "project", PROJECT)
    server = server_factory(project, "start", env={"MOTIA_WORKBENCH_TOKEN": TOKEN})
    response = server.client.get(
        f"/__motia/api/queues/?token={TOKEN}", headers={"host": "evil.example"}
    )
    assert response.status_code == 307
    assert response.headers["location"] == f"/__motia/api/queues?token={TOKEN}"
    followed = server.client.get(f"/__motia/api/queues/?token={TOKEN}", follow_redirects=True)
    assert followed.status_code == 200 and "items" in followed.json()
    assert server.client.get("/__motia/nothing/").status_code == 404


def test_the_internal_api_keeps_to_max_body_size(tmp_path: Path, server_factory: Factory) -> None:
    server = server_factory(write_project(tmp_path / "project", PROJECT), "dev")
    big = '{"v": "' + "x" * 2000 + '"}'
    for method, path in (
        ("PUT", "/__motia/api/state/g/k"),
        ("POST", "/__motia/api/flows/default/layout"),
        ("POST", "/__motia/api/dlq/purge"),
    ):
        response = server.client.request(method, path, content=big, headers=JSON)
        assert response.status_code == 413, (path, response.text)
        assert "larger than 1000 bytes" in response.json()["error"]

        # Without a Content-Length (chunked), it is counted as it arrives.
        def chunks() -> object:
            for _ in range(40):
                yield b"x" * 100

        chunked = server.client.request(method, path, content=chunks(), headers=JSON)
        assert chunked.status_code == 413
    small = server.client.put("/__motia/api/state/g/k", json={"v": 1})
    assert small.status_code == 200
    assert "Traceback" not in server.output()
