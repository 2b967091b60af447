"""A newcomer's first hour, for every template, done the way the created README says:
`motia create`, a virtual environment inside the project, `pip install -r requirements.txt`
(from a wheel of this checkout, with no package index), every command of the README's
shell blocks (tests, type checks, builds), then `motia dev`, an edited step answering the
next request, and Ctrl+C.

Nothing here reaches the internet: pip installs from the run's wheelhouse with `--no-index`
and npm from the run's cache with `--offline` (tests/install_cache.py)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

import motia
from tests.conftest import ServerProcess, free_port, wait_until_ready
from tests.tools import require

pytestmark = pytest.mark.slow

SERVER_COMMAND = "motia dev"
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Edit:
    """A change a newcomer makes to a step, and the request that shows it."""

    file: str
    old: str
    new: str
    path: str
    before: object
    after: object


EDITS = {
    "minimal": Edit(
        "steps/hello_step.py",
        'f"Hello, {name}!"',
        'f"Howdy, {name}!"',
        "/hello?name=Ada",
        {"message": "Hello, Ada!"},
        {"message": "Howdy, Ada!"},
    ),
    "python": Edit(
        "steps/api/get_order_step.py",
        '"order not found"',
        '"no order with that id"',
        "/orders/nope",
        {"error": "order not found"},
        {"error": "no order with that id"},
    ),
    "pipeline": Edit(
        "steps/api/get_batch_step.py",
        '"batch not found"',
        '"no batch with that id"',
        "/batches/nope",
        {"error": "batch not found"},
        {"error": "no batch with that id"},
    ),
    "jobs": Edit(
        "steps/api/get_job_step.py",
        '"job not found"',
        '"no job with that id"',
        "/jobs/nope",
        {"error": "job not found"},
        {"error": "no job with that id"},
    ),
    "auth": Edit(
        "steps/auth/verify_email_step.py",
        '"this link is not valid (or was used already)"',
        '"no such link"',
        "/auth/verify?token=made-up",
        {"error": "invalid_token", "message": "this link is not valid (or was used already)"},
        {"error": "invalid_token", "message": "no such link"},
    ),
    "ai-agent": Edit(
        "steps/api/get_run_step.py",
        '"run not found"',
        '"no run with that id"',
        "/agent/runs/made-up",
        {"error": "run not found"},
        {"error": "no run with that id"},
    ),
    "chat": Edit(
        "steps/api/get_room_step.py",
        '"room not found"',
        '"no room with that name"',
        "/rooms/nope",
        {"error": "no_room", "message": "room not found"},
        {"error": "no_room", "message": "no room with that name"},
    ),
    "multi-language": Edit(
        "steps/api/get_quote_step.py",
        '"quote not found"',
        '"no quote with that id"',
        "/quotes/nope",
        {"error": "quote not found"},
        {"error": "no quote with that id"},
    ),
}


class ReadmeShell(NamedTuple):
    commands: list[str]  # what a script can run, in order
    servers: list[str]  # the server command
    services: list[str]  # what the README runs in another terminal (a local mail server)
    exports: list[str]  # `export NAME=...` lines, which the server's shell needs too


def readme_commands(readme: str) -> ReadmeShell:
    """The commands of the README's ```bash blocks, in order, without comments, split
    into those a script can run, the server command, and the services the README starts
    in another terminal (its comment says so). `curl` lines are requests the test makes
    itself (the README's port is taken by other processes on a test machine)."""
    shell = ReadmeShell([], [], [], [])
    for block in BASH_BLOCK.findall(readme):
        for line in block.replace("\\\n", " ").splitlines():
            command, _, comment = line.partition(" #")
            command = command.strip()
            if not command or command.startswith("curl "):
                continue
            if command == SERVER_COMMAND:
                shell.servers.append(command)
            elif "terminal" in comment:
                shell.services.append(command)
            else:
                shell.commands.append(command)
                if command.startswith("export "):
                    shell.exports.append(command)
    return shell


def newcomer_env(wheelhouse: Path, npm_cache: Path | None) -> dict[str, str]:
    """A shell of someone who has Python 3 on PATH and nothing else of ours: no virtual
    environment active, the checkout's own `.venv` off PATH, pip and npm kept offline."""
    own_bin = str(Path(sys.executable).parent)
    base_python = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    path = [entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != own_bin]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "PYTEST", "npm_config_"))
    }
    env.update(
        {
            "PATH": os.pathsep.join([str(base_python.parent), *path]),
            # pip: only the wheelhouse, whatever this machine's pip configuration says.
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_CACHE_DIR": "1",
            "npm_config_offline": "true",
            "npm_config_audit": "false",
            "npm_config_fund": "false",
            "npm_config_update_notifier": "false",
        }
    )
    if npm_cache is not None:
        env["npm_config_cache"] = str(npm_cache)
    return env


def create_project(parent: Path, template: str, env: dict[str, str]) -> Path:
    # `motia create` of the package under test (its templates), whichever checkout that is.
    package_root = str(Path(motia.__file__).resolve().parents[1])
    created = subprocess.run(
        [sys.executable, "-m", "motia", "create", "app", "--template", template],
        cwd=parent,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": package_root},
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    return parent / "app"


def start_dev(
    project: Path, server_command: str, env: dict[str, str], exports: Sequence[str] = ()
) -> ServerProcess:
    """`motia dev` in an activated shell, in its own process group, as in a terminal,
    after the README's `export` lines."""
    port = free_port()
    log_path = project.parent / "motia-dev.log"
    prelude = "".join(f"{line} && " for line in exports)
    process = subprocess.Popen(
        ["bash", "-c", f". .venv/bin/activate && {prelude}exec {server_command} --port {port}"],
        cwd=project,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = ServerProcess(process, port, log_path)
    wait_until_ready(server, timeout=60)
    return server


def start_service(project: Path, command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A command the README runs in another terminal, in an activated shell of its own."""
    process = subprocess.Popen(
        ["bash", "-c", f". .venv/bin/activate && exec {command}"],
        cwd=project,
        env=env,
        stdout=(project.parent / "service.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(1.0)
    assert process.poll() is None, (project.parent / "service.log").read_text()
    return process


def stop_service(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def press_ctrl_c(server: ServerProcess, timeout: float = 30) -> int:
    """What Ctrl+C does in a terminal: SIGINT to the whole foreground process group."""
    server.client.close()
    os.killpg(server.process.pid, signal.SIGINT)
    try:
        return server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
        raise AssertionError(f"motia dev ignored Ctrl+C:\n{server.output()}") from None


def wait_for_new_behaviour(server: ServerProcess, edit: Edit, timeout: float = 20) -> None:
    """Poll the edited step's route: each answer is the old or the new one, never an error,
    until the new one arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.process.poll() is None:
        response = server.client.get(edit.path)
        body = response.json() if "json" in response.headers.get("content-type", "") else None
        if body == edit.after:
            return
        assert body == edit.before, (
            f"after the edit, {edit.path} answered {response.status_code} "
            f"{response.text[:500]!r}\n{server.output()}"
        )
        time.sleep(0.2)
    raise AssertionError(f"the edited step never answered {edit.after}:\n{server.output()}")


@pytest.mark.parametrize(
    "template",
    ["python", "minimal", "multi-language", "pipeline", "jobs", "auth", "ai-agent", "chat"],
)
def test_a_newcomer_follows_the_created_readme(
    template: str, tmp_path: Path, wheelhouse: Path, request: pytest.FixtureRequest
) -> None:
    npm_cache: Path | None = None
    if template in ("multi-language", "pipeline", "jobs"):
        require("node")
        npm_cache = request.getfixturevalue("npm_cache")
    if template in ("multi-language", "jobs"):
        require("ruby")
    env = newcomer_env(wheelhouse, npm_cache)
    project = create_project(tmp_path, template, env)

    commands, servers, services, exports = readme_commands((project / "README.md").read_text())
    assert commands[0] == "python3 -m venv .venv && . .venv/bin/activate", commands
    assert "pip install -r requirements.txt" in commands and "pytest" in commands
    assert "mypy" in commands
    assert servers == [SERVER_COMMAND]

    # Every command of the README, in one shell, as typed: the tests pass, mypy is happy.
    script = "\n".join(
        ["set -euo pipefail", *(f"echo {shlex.quote('$ ' + c)} && {c}" for c in commands)]
    )
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    transcript = result.stdout + result.stderr
    assert result.returncode == 0, transcript
    assert (project / ".venv" / "bin" / "motia").is_file(), "the venv is inside the project"
    assert re.search(r"\b\d+ passed\b", result.stdout), transcript
    assert "Success: no issues found" in result.stdout, transcript
    installed = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", "import motia; print(motia.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert installed.stdout.startswith(str(project / ".venv")), installed.stdout

    # What the README runs in another terminal, then `motia dev`: the banner names the
    # app, the workbench and the API docs.
    started = [start_service(project, command, env) for command in services]
    request.addfinalizer(lambda: [stop_service(process) for process in started])
    server = start_dev(project, servers[0], env, exports)
    try:
        output = server.output()
        url = f"http://127.0.0.1:{server.port}"
        for address in (url, f"{url}/__motia/", f"{url}/__motia/docs"):
            assert address in output, output
        assert server.client.get("/__motia/docs").status_code == 200

        edit = EDITS[template]
        assert server.client.get(edit.path).json() == edit.before
        step = project / edit.file
        source = step.read_text()
        assert edit.old in source
        step.write_text(source.replace(edit.old, edit.new))
        wait_for_new_behaviour(server, edit)
    except (AssertionError, httpx.HTTPError):
        press_ctrl_c(server)
        raise

    assert press_ctrl_c(server) == 0, server.output()
    assert "Traceback" not in server.output(), server.output()
