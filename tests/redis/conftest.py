"""Multi-process tests on Redis: real `motia start` processes on loopback sharing one Redis.

Every test gets its own key prefix (`MOTIA_REDIS_PREFIX`) on the Redis server at
`MOTIA_TEST_REDIS_URL` (default redis://127.0.0.1:6379/0), and the prefix's keys are deleted
afterwards. When that server cannot be reached the tests are skipped, or fail when the CI
environment variable is set. Tests that restart Redis start a `redis-server` of their own
on a spare port (`own_redis`). Every test is bounded by an alarm (`TEST_TIMEOUT`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlparse
from uuid import uuid4

import pytest

import redis
from tests.conftest import ServerProcess, free_port, start_server
from tests.unit.redis_support import REDIS_URL

TEST_TIMEOUT = 120  # seconds; no test here may run longer

_reachable: bool | None = None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI is set, so the Redis multi-process tests must run")
    pytest.skip(reason)


def require_redis() -> None:
    """Skip (fail, when CI is set) the test when the shared Redis server is unreachable."""
    global _reachable
    if _reachable is None:
        probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            _reachable = bool(probe.ping())
        except (redis.RedisError, OSError):
            _reachable = False
        finally:
            probe.close()
    if not _reachable:
        where = urlparse(REDIS_URL)
        _unavailable(
            f"no Redis server reachable at {where.hostname}:{where.port or 6379} "
            "(start redis-server, or point MOTIA_TEST_REDIS_URL at one)"
        )


def delete_prefix(prefix: str, url: str = REDIS_URL) -> int:
    """Delete every key of a prefix (SCAN: fine for tests)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        return len(keys)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _bounded_in_time() -> Iterator[None]:
    """Fail a test that runs longer than TEST_TIMEOUT instead of hanging the suite."""

    def expired(_signum: int, _frame: FrameType | None) -> None:
        raise TimeoutError(f"the test ran longer than {TEST_TIMEOUT} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own on the shared Redis; its keys are deleted after.
    Request it (or `redis_env`) before `servers`, so the servers stop before the deletion."""
    require_redis()
    prefix = f"test-mp-{uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        delete_prefix(prefix)


@pytest.fixture
def redis_env(redis_prefix: str) -> dict[str, str]:
    """The environment that puts `motia start` on the shared Redis under the test's prefix."""
    return {"MOTIA_REDIS_URL": REDIS_URL, "MOTIA_REDIS_PREFIX": redis_prefix}


def children_of(pid: int) -> list[int]:
    """Direct children of a process (the workers of `motia start --workers N`)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
    return found


def worker_pids(supervisor: int) -> list[int]:
    """The worker processes of a `--workers` supervisor (not multiprocessing's helpers)."""
    workers = []
    for pid in children_of(supervisor):
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(pid)
    return workers


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is dead for our purposes
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    return True


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start `motia` processes; each is stopped after the test (SIGTERM, then SIGKILL), and so
    is every worker process a `--workers` supervisor had forked."""
    started: list[ServerProcess] = []
    workers: set[int] = set()

    def factory(project: Path, *args: str, **kwargs: object) -> ServerProcess:
        server = start_server(project, "start", *args, log_dir=tmp_path, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        workers.update(children_of(server.process.pid))
        return server

    factory.workers = workers  # type: ignore[attr-defined]
    yield factory
    for server in started:
        workers.update(children_of(server.process.pid))
        server.stop(signal.SIGTERM, timeout=10)
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in workers:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class OwnRedis:
    """A `redis-server` of the test's own on a spare port, append-only so that its data
    survives its own restart (same port, same folder)."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(self.directory),
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"redis-server exited with {self.process.returncode}:\n"
                    + (self.directory / "redis.log").read_text(errors="replace")
                )
            if self.ping():
                return
            time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not answer within {timeout} s")

    def ping(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def stop(self, timeout: float = 10) -> None:
        """Shut the server down the way an operator would (SIGTERM: AOF flushed, then exit)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        _unavailable("`redis-server` is not on PATH (install the Debian package redis-server)")
    directory = tmp_path / "redis-data"
    directory.mkdir()
    server = OwnRedis(free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
