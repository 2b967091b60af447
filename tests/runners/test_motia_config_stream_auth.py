"""A classic project's motia.config.ts in real servers: its `streamAuth.authenticate` decides
who a stream client is (WebSocket and SSE), a stream's `canAccess` sees that context, its
`redis` names the Redis, what has no equivalent here (plugins, adapters) is named once with
the file, and the classic packages it imports (`@motiadev/core`, plugins, adapter classes)
need not be installed."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ServerProcess, start_server, write_project
from tests.tools import copy_node_project, node24, require, unavailable

PROJECT = Path(__file__).resolve().parent / "fixtures" / "layouts" / "motia_config"


@pytest.fixture(params=["system-node", "system-node-esbuild", "node-24-extra"])
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def node(variant: str) -> str:
    return node24() if variant == "node-24-extra" else require("node")


@pytest.fixture
def project(tmp_path: Path, variant: str) -> Path:
    # With esbuild, an older Node compiles motia.config.ts to CommonJS, whose require() of
    # the missing classic packages gets the stand-ins.
    also = {"esbuild": "^0.28.2"} if variant.endswith("esbuild") else {}
    return copy_node_project(PROJECT, tmp_path / "project", also=also)


@pytest.fixture
def server(project: Path, server_factory: Callable[..., ServerProcess], node: str) -> ServerProcess:
    return server_factory(project, "dev", env={"MOTIA_NODE": node})


async def join(server: ServerProcess, query: str, room: str) -> dict[str, Any]:
    """The first frame the server sends after a join of `messages/<room>`."""
    url = f"ws://127.0.0.1:{server.port}/{query}"
    async with connect(url, open_timeout=5, close_timeout=1) as socket:
        message = {"streamName": "messages", "groupId": room, "subscriptionId": "s1"}
        await socket.send(json.dumps({"type": "join", "data": message}))
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
        return frame


def event_type(frame: dict[str, Any]) -> str:
    event = frame["event"]
    return str(event["event"]["data"]["code"] if event["type"] == "event" else event["type"])


async def test_stream_auth_decides_who_joins_over_websocket(server: ServerProcess) -> None:
    posted = server.client.post("/rooms/ann/messages", json={"text": "hi ann"})
    assert posted.status_code == 201, posted.text

    own = await join(server, "?authToken=user-ann", "ann")
    assert event_type(own) == "sync" and own["event"]["data"][0]["text"] == "hi ann"
    assert event_type(await join(server, "?authToken=user-ann", "bob")) == "STREAM_ACCESS_DENIED"
    assert event_type(await join(server, "?authToken=admin-root", "bob")) == "sync"
    # No token: authenticate returns null, and canAccess refuses an anonymous client.
    assert event_type(await join(server, "", "ann")) == "STREAM_ACCESS_DENIED"

    # authenticate throws: the connection closes with 4401.
    with pytest.raises(ConnectionClosed) as closed:
        await join(server, "?authToken=forged", "ann")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert "authentication failed" in server.output()


def test_stream_auth_decides_who_reads_over_sse(server: ServerProcess) -> None:
    def status(token: str | None, room: str) -> int:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        with httpx.stream(
            "GET", f"{server.url}/__motia/streams/messages/{room}", headers=headers, timeout=10
        ) as response:
            return response.status_code

    assert status("user-ann", "ann") == 200
    assert status("user-ann", "bob") == 403
    assert status("forged", "ann") == 401
    assert status(None, "ann") == 403


def test_keys_without_an_equivalent_are_named_once_with_the_file(server: ServerProcess) -> None:
    output = server.output()
    assert output.count("have no effect here") == 1, output
    line = next(line for line in output.splitlines() if "have no effect here" in line)
    assert "motia.config.ts" in line and "plugins, adapters" in line, line
    assert "streamAuth" not in line.split("hint")[0]
    # The classic packages it imports are missing, and that is one info line.
    assert output.count("not installed") == 1, output
    assert "error" not in output.lower(), output


def test_a_broken_motia_config_stops_start_naming_the_file(tmp_path: Path) -> None:
    project = copy_node_project(PROJECT, tmp_path / "project")
    config = project / "motia.config.ts"
    config.write_text(config.read_text().replace("streamAuth: {", "streamAuth: {{", 1))
    server = start_server(project, "start", wait=False)
    assert server.process.wait(60) != 0
    output = server.output()
    assert "motia.config.ts" in output and "could not be loaded" in output, output


def test_stream_auth_without_authenticate_is_an_error(tmp_path: Path) -> None:
    project = copy_node_project(PROJECT, tmp_path / "project")
    config = project / "motia.config.ts"
    config.write_text(config.read_text().replace("authenticate: async", "check: async", 1))
    result = subprocess.run(
        [sys.executable, "-m", "motia", "build", "--dir", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "motia.config.ts" in result.stderr
    assert "`streamAuth` needs an `authenticate` function" in result.stderr, result.stderr


def test_editing_motia_config_in_dev_applies_the_new_authenticate(
    server: ServerProcess, project: Path
) -> None:
    def status(token: str) -> int:
        url = f"{server.url}/__motia/streams/messages/ann?authToken={token}"
        with httpx.stream("GET", url, timeout=10) as response:
            return response.status_code

    assert status("user-ann") == 200
    config = project / "motia.config.ts"
    # Now every plain user is refused.
    source = (
        config.read_text()
        .replace("const [role, userId] = token.split('-')\n", "")
        .replace(
            "if (token === 'forged')",
            "const [role, userId] = token.split('-')\n      if (role === 'user')",
        )
    )
    config.write_text(source)
    server.wait_for_output("reloaded", timeout=30)
    assert status("user-ann") == 401
    assert status("admin-root") == 200


PYTHON_STEP = """
    config = {"type": "api", "name": "Hello", "method": "GET", "path": "/hello", "emits": []}

    async def handler(req, ctx):
        return {"status": 200, "body": {"hello": "world"}}
"""


def test_a_python_project_starts_without_node_despite_its_motia_config(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT / "motia.config.ts", project / "motia.config.ts")
    shutil.copy(PROJECT / "package.json", project / "package.json")
    write_project(project, {"steps/hello_step.py": PYTHON_STEP})
    server = server_factory(project, "start", env={"MOTIA_NODE": str(tmp_path / "no-node")})
    assert server.client.get("/hello").json() == {"hello": "world"}
    output = server.output()
    assert "need the Node.js runner: motia.config.ts; it is not read" in output, output


REDIS_CONFIG = """
import { config } from 'motia'

export default config({
  redis: { useMemoryServer: false, host: '127.0.0.1', port: 6379, db: 9 },
})
"""

STATE_STEP = """
    config = {"type": "api", "name": "Remember", "method": "POST", "path": "/remember",
              "emits": []}

    async def handler(req, ctx):
        await ctx.state.set("memories", "last", req["body"])
        return {"status": 200, "body": await ctx.state.get("memories", "last")}
"""


def test_the_redis_of_motia_config_is_used(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    require("node")
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=9)
    try:
        client.ping()
    except redis.ConnectionError:
        unavailable("Redis is not running on 127.0.0.1:6379")
    prefix = f"motia-config-test-{tmp_path.name}"
    project = write_project(
        tmp_path / "project",
        {"motia.config.ts": REDIS_CONFIG, "steps/remember_step.py": STATE_STEP},
    )
    try:
        server = server_factory(project, "start", env={"MOTIA_REDIS_PREFIX": prefix})
        answer = server.client.post("/remember", json={"text": "kept in Redis"})
        assert answer.status_code == 200, server.output()
        keys = [key.decode() for key in client.scan_iter(f"{prefix}*")]
        assert keys, server.output()
        assert "names the Redis at redis://127.0.0.1:6379/9" in server.output()
        assert "have no effect" not in server.output()
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
