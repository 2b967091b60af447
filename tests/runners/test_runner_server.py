"""Runners inside real `motia start` and `motia dev` processes: the example flow over
HTTP, clean shutdown without orphans, reload on change, and the errors people meet first."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, start_server, wait_for
from tests.runners.support import multi_language_example, node_project, require

RUNNER_SCRIPTS = ("runner.mjs", "runner.rb")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    require("node")
    require("ruby")
    return multi_language_example(tmp_path / "example", "types.d.ts")


def runner_children(parent: int) -> dict[str, int]:
    """The runner processes whose parent is `parent`, by script name."""
    found: dict[str, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        for script in RUNNER_SCRIPTS:
            if ppid == parent and script in cmdline:
                found[script] = int(proc.name)
    return found


def alive(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_example_flow_over_http_and_a_clean_shutdown(
    example: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    server = server_factory(example, "start")
    runners = runner_children(server.process.pid)
    assert set(runners) == set(RUNNER_SCRIPTS), server.output()

    response = server.client.post(
        "/documents", json={"title": "Contract", "text": "an agreement between one party"}
    )
    assert response.status_code == 201, response.text
    document_id = response.json()["id"]

    def published() -> object:
        answer = server.client.get(f"/documents/{document_id}")
        return answer.json() if answer.status_code == 200 else None

    status = wait_for(published, timeout=20)
    assert isinstance(status, dict)
    # The stream item carries the marker that lets the workbench subscribe to it.
    assert status.pop("__motia") == {
        "type": "state-stream",
        "streamName": "document-status",
        "groupId": "documents",
        "id": document_id,
    }
    assert status == {
        "id": document_id,
        "title": "Contract",
        "category": "contract",
        "score": 50,
        "status": "approved",
    }

    assert server.stop(signal.SIGTERM) == 0
    for pid in runners.values():
        wait_for(lambda pid=pid: not alive(pid), timeout=10)


def test_dev_reloads_a_changed_typescript_step_and_writes_types(
    example: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    server = server_factory(example, "dev")
    types = wait_for(lambda: (example / "types.d.ts").is_file(), timeout=10)
    assert types
    assert "'RateDocument'" in (example / "types.d.ts").read_text()
    first = runner_children(server.process.pid)["runner.mjs"]

    step = example / "steps" / "api" / "rate-document.step.ts"
    step.write_text(
        step.read_text().replace("body: { id, rating: req.body.rating }", "body: { id, rating: 5 }")
    )

    def rated_five() -> bool:
        answer = server.client.post("/documents/d9/ratings", json={"rating": 1})
        return answer.status_code == 201 and answer.json()["rating"] == 5

    wait_for(rated_five, timeout=20)
    assert runner_children(server.process.pid)["runner.mjs"] != first
    wait_for(lambda: not alive(first), timeout=10)


def test_start_refuses_a_typescript_syntax_error_naming_file_and_line(tmp_path: Path) -> None:
    project = node_project(tmp_path / "project")
    broken = project / "steps" / "broken.step.ts"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "export const config = { type: 'event', name: 'Broken', subscribes: ['x'] }\n"
        "export const handler = async (input: any) => {\n"
        "  if (input.ok {\n"
        "}\n"
    )
    server = start_server(project, "start", wait=False)
    assert server.process.wait(30) != 0
    output = server.output()
    assert "steps/broken.step.ts:3" in output, output


def test_start_says_what_to_run_when_npm_packages_are_missing(tmp_path: Path) -> None:
    require("node")
    project = tmp_path / "project"
    (project / "steps").mkdir(parents=True)
    (project / "package.json").write_text('{"dependencies": {"zod": "^3.25.0"}}')
    (project / "package-lock.json").write_text("{}")
    (project / "steps" / "hello.step.js").write_text(
        "const { z } = require('zod')\n"
        "exports.config = { type: 'api', name: 'Hello', method: 'GET', path: '/hello' }\n"
        "exports.handler = async () => ({ status: 200, body: 'hi' })\n"
    )
    server = start_server(project, "start", wait=False)
    assert server.process.wait(30) != 0
    output = server.output()
    assert "steps/hello.step.js" in output, output
    assert "imports 'zod', which is in package.json but not installed" in output, output
    assert "npm ci" in output


def test_a_runner_that_keeps_dying_does_not_take_the_server_down(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = node_project(tmp_path / "project")
    step = project / "steps" / "exit.step.js"
    step.parent.mkdir(parents=True)
    step.write_text(
        "exports.config = { type: 'api', name: 'Exit', method: 'GET', path: '/exit' }\n"
        "exports.handler = async () => { process.exit(3) }\n"
    )
    (project / "steps" / "ping_step.py").write_text(
        "config = {'type': 'api', 'name': 'Ping', 'method': 'GET', 'path': '/ping'}\n"
        "async def handler(req, ctx):\n"
        "    return {'status': 200, 'body': 'pong'}\n"
    )
    server = server_factory(project, "start")
    for _ in range(3):
        assert server.client.get("/exit").status_code == 500
        assert server.client.get("/ping").text == "pong"
    output = server.wait_for_output("exited with status 3")
    assert "restarting in 0.5 s" in output and "restarting in 1 s" in output
    # After its backoff it is back, ready for the next request.
    wait_for(lambda: runner_children(server.process.pid).get("runner.mjs"), timeout=20)


def test_runners_die_with_a_killed_server_even_while_a_handler_blocks_them(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    require("setpriv")
    project = node_project(tmp_path / "project")
    step = project / "steps" / "spin.step.js"
    step.parent.mkdir(parents=True)
    step.write_text(
        "exports.config = { type: 'api', name: 'Spin', method: 'GET', path: '/spin' }\n"
        "exports.handler = async () => { for (;;) {} }\n"
    )
    server = server_factory(project, "start")
    runner = runner_children(server.process.pid)["runner.mjs"]
    with contextlib.suppress(httpx.TimeoutException):
        server.client.get("/spin", timeout=0.5)  # the runner is now stuck in the loop
    assert alive(runner)
    server.process.kill()
    server.process.wait(10)
    wait_for(lambda: not alive(runner), timeout=10)


def _node_that_works_once(tmp_path: Path) -> Path:
    """A `node` that runs once (the load at startup) and then fails to start."""
    real = require("node")
    marker = tmp_path / "node-ran"
    fake = tmp_path / "fake-node"
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ -e "{marker}" ]; then echo "node: cannot start" >&2; exit 1; fi\n'
        f'touch "{marker}"\n'
        f'exec "{real}" "$@"\n'
    )
    fake.chmod(0o755)
    return fake


def _js_and_python_project(root: Path) -> Path:
    (root / "steps").mkdir(parents=True)
    (root / "steps" / "hello.step.js").write_text(
        "exports.config = { type: 'api', name: 'HelloJs', method: 'GET', path: '/js' }\n"
        "exports.handler = async () => ({ status: 200, body: 'js' })\n"
    )
    (root / "steps" / "ping_step.py").write_text(
        "config = {'type': 'api', 'name': 'Ping', 'method': 'GET', 'path': '/ping'}\n"
        "async def handler(req, ctx):\n"
        "    return {'status': 200, 'body': 'pong'}\n"
    )
    return root


def test_start_refuses_to_run_when_a_runner_cannot_start(tmp_path: Path) -> None:
    project = _js_and_python_project(tmp_path / "project")
    env = {"MOTIA_NODE": str(_node_that_works_once(tmp_path))}
    server = start_server(project, "start", env=env, wait=False)
    assert server.process.wait(30) != 0
    output = server.output()
    assert "the Node.js runner exited with status 1 before it was ready" in output, output
    assert "node: cannot start" in output


def test_dev_keeps_serving_when_a_runner_cannot_start(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = _js_and_python_project(tmp_path / "project")
    env = {"MOTIA_NODE": str(_node_that_works_once(tmp_path))}
    server = server_factory(project, "dev", env=env)
    assert server.client.get("/ping").text == "pong"
    assert server.client.get("/js").status_code == 500
    assert "steps that need the runner fail until it starts" in server.output()


def test_the_can_access_of_a_typescript_stream_runs_in_the_runner(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = node_project(tmp_path / "project")
    (project / "motia_config.py").write_text(
        "def authenticate(request):\n"
        "    token = request['token']\n"
        "    return {'user': token} if token else None\n"
    )
    stream = project / "steps" / "private-notes.stream.ts"
    stream.parent.mkdir(parents=True)
    stream.write_text(
        "import { StreamConfig } from 'motia'\n"
        "import { z } from 'zod'\n"
        "export const config: StreamConfig = {\n"
        "  name: 'private-notes',\n"
        "  schema: z.object({ text: z.string() }),\n"
        "  baseConfig: { storageType: 'default' },\n"
        "  canAccess: (subscription: any, auth: any) => auth?.user === subscription.groupId,\n"
        "}\n"
    )
    server = server_factory(project, "start")

    def status(group: str, token: str | None) -> int:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        with server.client.stream(
            "GET", f"/__motia/streams/private-notes/{group}", headers=headers
        ) as response:
            return response.status_code

    assert status("alice", "alice") == 200
    assert status("alice", "bob") == 403
    assert status("alice", None) == 403
