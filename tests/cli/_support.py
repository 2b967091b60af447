"""Helpers for the CLI tests: one-shot `motia` commands, servers without the conftest's
`--port`, JSON log parsing and small step sources."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import ServerProcess, start_server, wait_until_ready

MOTIA = [sys.executable, "-m", "motia"]


def run_motia(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run a short-lived `motia ...` command to completion and capture its output."""
    return subprocess.run(
        [*MOTIA, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def spawn_server(
    project: Path,
    port: int,
    *args: str,
    mode: str = "start",
    env: dict[str, str] | None = None,
    log_dir: Path,
    wait: bool = True,
) -> ServerProcess:
    """Start `motia MODE --dir PROJECT ARGS...` (no `--port` unless in ARGS) that is expected
    to listen on `port`; the returned ServerProcess talks to that port."""
    log_path = log_dir / f"spawned-{port}.log"
    process = subprocess.Popen(
        [*MOTIA, mode, "--dir", str(project), *args],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        cwd=project,
    )
    server = ServerProcess(process, port, log_path)
    if wait:
        wait_until_ready(server)
    return server


@contextmanager
def running(
    project: Path, mode: str = "start", *args: str, **kwargs: Any
) -> Iterator[ServerProcess]:
    """A server for a whole module (conftest's `server_factory` is per test)."""
    server = start_server(project, mode, *args, **kwargs)
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


def json_records(output: str) -> list[dict[str, Any]]:
    """Every line of `output` that is a JSON object (the `motia start` log format)."""
    records = []
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def api_step(name: str, method: str, path: str, body: str = "{'ok': True}", extra: str = "") -> str:
    """Source of a minimal api step returning `body` with status 200."""
    return f"""
config = {{
    "type": "api",
    "name": {name!r},
    "method": {method!r},
    "path": {path!r},
    "emits": [],{extra}
}}


async def handler(req, ctx):
    return {{"status": 200, "body": {body}}}
"""
