"""`process.exit()` in a Node handler and `exit`/`exit!` in a Ruby handler, in a real
server with real runners: the attempt fails (retried, then dead-lettered), the runner is
restarted when it died, and the other steps keep working."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile._handler_support import CONFIG, dead_letters
from tests.runners.support import node_project, require

QUEUE = "{ maxRetries: 1, backoff: { delay: 0.05, jitter: false } }"

STEPS = {
    "config.yml": CONFIG,
    "steps/start_step.py": """
        config = {"type": "api", "name": "Start", "method": "POST", "path": "/start/:topic",
                  "emits": ["node-exit", "ruby-exit", "ruby-exit-bang", "steady"]}

        async def handler(req, ctx):
            await ctx.emit({"topic": req["pathParams"]["topic"], "data": {}})
            return {"status": 202, "body": {}}
    """,
    "steps/node-exit.step.js": f"""
        const fs = require('fs')
        const path = require('path')
        exports.config = {{
          type: 'event', name: 'NodeExit', subscribes: ['node-exit'], emits: [],
          infrastructure: {{ queue: {QUEUE} }},
        }}
        exports.handler = async (input, ctx) => {{
          fs.appendFileSync(path.join(__dirname, '..', 'node-attempts'), `${{process.pid}}\\n`)
          process.exit(1)
        }}
    """,
    "steps/steady.step.js": f"""
        const fs = require('fs')
        const path = require('path')
        exports.config = {{
          type: 'event', name: 'Steady', subscribes: ['steady'], emits: [],
          infrastructure: {{ queue: {QUEUE} }},
        }}
        exports.handler = async () => {{
          fs.writeFileSync(path.join(__dirname, '..', 'steady-done'), String(process.pid))
        }}
    """,
    "steps/pid.step.js": """
        exports.config = { type: 'api', name: 'Pid', method: 'GET', path: '/pid', emits: [] }
        exports.handler = async () => ({ status: 200, body: { pid: process.pid } })
    """,
    "steps/ruby_exit_step.rb": """
        def config
          { type: 'event', name: 'RubyExit', subscribes: ['ruby-exit'], emits: [],
            infrastructure: { queue: { maxRetries: 1, backoff: { delay: 0.05, jitter: false } } } }
        end

        def handler(input, context)
          File.open(File.join(__dir__, '..', 'ruby-exit-attempts'), 'a') { |f| f.puts(Process.pid) }
          exit 3
        end
    """,
    "steps/ruby_exit_bang_step.rb": """
        def config
          { type: 'event', name: 'RubyExitBang', subscribes: ['ruby-exit-bang'], emits: [],
            infrastructure: { queue: { maxRetries: 1, backoff: { delay: 0.05, jitter: false } } } }
        end

        def handler(input, context)
          File.open(File.join(__dir__, '..', 'ruby-bang-attempts'), 'a') { |f| f.puts(Process.pid) }
          exit!(4)
        end
    """,
    "steps/ruby_pid_step.rb": """
        def config
          { type: 'api', name: 'RubyPid', method: 'GET', path: '/ruby-pid', emits: [] }
        end

        def handler(req, context)
          { status: 200, body: { pid: Process.pid } }
        end
    """,
}


@pytest.fixture
def server(tmp_path: Path, server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    require("ruby")
    project = write_project(node_project(tmp_path / "project"), STEPS)
    return server_factory(project)


def _letter(server: ServerProcess, step: str) -> dict[str, object]:
    def find() -> object:
        return next((d for d in dead_letters(server) if d["step"] == step), None)

    letter = wait_for(find, timeout=30)
    assert isinstance(letter, dict)
    return letter


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_process_exit_in_a_node_handler_fails_the_attempt_and_restarts_the_runner(
    server: ServerProcess,
) -> None:
    project = server.log_path.parent / "project"
    first_pid = server.client.get("/pid").json()["pid"]
    assert server.client.post("/start/node-exit").status_code == 202
    letter = _letter(server, "NodeExit")
    assert letter["attempts"] == 2
    assert "runner stopped" in str(letter["error"])
    pids = _lines(project / "node-attempts")
    assert len(pids) == 2 and pids[0] == str(first_pid) != pids[1]  # retried in a new runner

    # A new runner serves the other steps, events and requests alike.
    assert server.client.post("/start/steady").status_code == 202
    wait_for(lambda: (project / "steady-done").exists(), timeout=30)
    pid = server.client.get("/pid", timeout=30).json()["pid"]
    assert pid != first_pid
    assert int((project / "steady-done").read_text()) == pid
    assert server.process.poll() is None
    assert server.stop(signal.SIGTERM) == 0


def test_exit_in_a_ruby_handler_is_that_attempts_failure(server: ServerProcess) -> None:
    project = server.log_path.parent / "project"
    pid = server.client.get("/ruby-pid").json()["pid"]
    assert server.client.post("/start/ruby-exit").status_code == 202
    letter = _letter(server, "RubyExit")
    assert letter["attempts"] == 2
    assert "SystemExit" in str(letter["error"])
    # `exit` raises in Ruby: the runner caught it and never stopped.
    assert _lines(project / "ruby-exit-attempts") == [str(pid), str(pid)]
    assert server.client.get("/ruby-pid").json()["pid"] == pid


def test_exit_bang_in_a_ruby_handler_fails_the_attempt_and_restarts_the_runner(
    server: ServerProcess,
) -> None:
    project = server.log_path.parent / "project"
    first_pid = server.client.get("/ruby-pid").json()["pid"]
    assert server.client.post("/start/ruby-exit-bang").status_code == 202
    letter = _letter(server, "RubyExitBang")
    assert letter["attempts"] == 2
    assert "runner stopped" in str(letter["error"])
    pids = _lines(project / "ruby-bang-attempts")
    assert len(pids) == 2 and pids[0] != pids[1]  # the second attempt ran in a new runner
    assert server.client.get("/ruby-pid", timeout=30).json()["pid"] not in (first_pid,)
    assert server.client.get("/pid").status_code == 200  # the Node runner was never touched
    assert server.stop(signal.SIGTERM) == 0
