"""Shared fixtures: real `motia` server processes on free loopback ports."""

from __future__ import annotations

import asyncio
import inspect
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "resources"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: source}` into `root`, dedenting each source."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())
    return root


@dataclass
class ServerProcess:
    """A `motia dev|start` child process; `output()` is everything it printed so far."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if text in out:
                return out
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear in the server output:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(
    project: Path,
    mode: str = "start",
    *args: str,
    env: dict[str, str] | None = None,
    wait: bool = True,
    log_dir: Path | None = None,
) -> ServerProcess:
    port = free_port()
    log_path = (log_dir or project) / f"server-{port}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "motia", mode, "--dir", str(project), "--port", str(port), *args],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        env=full_env,
        cwd=project,
    )
    server = ServerProcess(process, port, log_path)
    if wait:
        wait_until_ready(server)
    return server


def wait_until_ready(server: ServerProcess, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"server exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            if server.client.get("/__motia/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    raise AssertionError(f"server did not become ready:\n{server.output()}")


def wait_for(
    predicate: Callable[[], object], timeout: float = 10, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll until `predicate()` is truthy and return it; fails the test with `what` and the
    last value otherwise."""
    deadline = time.monotonic() + timeout
    value: object = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    detail = f" {what}" if what else ""
    raise AssertionError(f"condition not met within {timeout} s:{detail} (last value: {value!r})")


async def until(
    predicate: Callable[[], object],
    timeout: float = 5,
    interval: float = 0.01,
    what: str | Callable[[], str] = "",
) -> Any:
    """`wait_for` inside a running event loop: polls (bounded) without blocking the loop;
    `predicate` may be a coroutine function; `what` (or what it returns) names the wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    value: object = None
    while loop.time() < deadline:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    described = what() if callable(what) else what
    detail = f" {described}" if described else ""
    raise AssertionError(f"condition not met within {timeout} s:{detail} (last value: {value!r})")


# Every `async def` test is bounded: this many seconds unless marked
# `@pytest.mark.async_timeout(seconds)` (a module can set `pytestmark` to it).
ASYNC_TEST_TIMEOUT = 60.0

# Coroutines awaited after every `async def` test, on its loop (e.g. closing Redis clients
# that belong to that loop).
LOOP_CLEANUPS: list[Callable[[], Awaitable[None]]] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "async_timeout(seconds): the bound of an `async def` test (default 60 s)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Runs `async def` tests, each on a fresh event loop (no plugin needed)."""
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None
    wanted = inspect.signature(test).parameters
    arguments = {name: value for name, value in pyfuncitem.funcargs.items() if name in wanted}

    marker = pyfuncitem.get_closest_marker("async_timeout")
    timeout = float(marker.args[0]) if marker is not None else ASYNC_TEST_TIMEOUT

    async def run_test() -> None:
        try:
            async with asyncio.timeout(timeout):
                await test(**arguments)
        finally:
            for cleanup in LOOP_CLEANUPS:
                await cleanup()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_test())
    finally:
        # As asyncio.run ends, but bounded: a task that ignores cancellation is named
        # instead of hanging the run.
        stuck = loop.run_until_complete(_cancel_leftover_tasks())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
    if stuck:
        raise AssertionError("tasks that ignored cancellation after the test:\n" + stuck)
    return True


LEFTOVER_GRACE = 10.0


async def _cancel_leftover_tasks() -> str:
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in leftovers:
        task.cancel()
    if not leftovers:
        return ""
    _, pending = await asyncio.wait(leftovers, timeout=LEFTOVER_GRACE)
    report = io.StringIO()
    for task in pending:
        task.print_stack(file=report)
    return report.getvalue()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers for a test; all of them are stopped when it ends."""
    started: list[ServerProcess] = []

    def factory(project: Path, mode: str = "start", *args: str, **kwargs: object) -> ServerProcess:
        server = start_server(project, mode, *args, log_dir=tmp_path, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop(signal.SIGKILL)


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A fresh copy of the example project (no `.motia/` data)."""
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".motia", "__pycache__"))
    return target
