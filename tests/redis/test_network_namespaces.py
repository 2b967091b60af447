"""Two `motia start` processes as two machines: each in a network namespace of its own,
reaching one Redis over a veth link (nothing on loopback is shared between them, and each
runs from its own copy of the project). Events accepted in one namespace are handled in the
other, a stream change made through one reaches a WebSocket client of the other, and a
one-second cron job runs once per tick.

Needs root and iproute2 (`ip netns`); skipped, saying why, where namespaces cannot be
made. Namespaces, veth pairs and the Redis server are removed whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

import redis
from tests.conftest import wait_for, write_project
from tests.redis.support import CRON_STEP, PROJECT, STREAM_FILES, Run, read_runs

pytestmark = pytest.mark.slow

REDIS_PORT = 6391  # on the veth addresses only, so no clash with a loopback server
MOTIA_PORT = 3000  # each namespace has its own port space


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=check)


@dataclass
class Machine:
    """One namespace: its name, its veth pair and addresses, its project and server."""

    namespace: str
    host_link: str
    inner_link: str
    host_address: str
    address: str
    project: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.project / "server.log"

    @property
    def url(self) -> str:
        return f"http://{self.address}:{MOTIA_PORT}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self, redis_url: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MOTIA_REDIS_URL": redis_url}
        for name in ("REDIS_URL", "MOTIA_DATABASE_URL", "DATABASE_URL", "MOTIA_REDIS_PREFIX"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.namespace,  # execs the server: same pid
                sys.executable,
                "-m",
                "motia",
                "start",
                "--dir",
                str(self.project),
                "--host",
                "0.0.0.0",
                "--port",
                str(MOTIA_PORT),
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.project,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.namespace}: server exited:\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/__motia/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{self.namespace}: not ready in {timeout} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def runs(self, kind: str) -> list[Run]:
        return read_runs(self.project, kind)


def _namespaces_usable() -> str | None:
    """Why network namespaces cannot be used here, or None."""
    if sys.platform != "linux":
        return "network namespaces are Linux only"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    if shutil.which("redis-server") is None:
        return "`redis-server` is not on PATH (install the Debian package redis-server)"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    return None


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[list[Machine]]:
    """Two namespaces, each linked to the host by a veth pair on a /24 of its own; a Redis
    server on the host side of both links; one project copy per namespace."""
    reason = _namespaces_usable()
    if reason:
        pytest.skip(reason)
    tag = uuid.uuid4().hex[:6]
    subnet = 201 + int(tag, 16) % 50  # 10.<subnet>.<0|1>.0/24, rarely used
    made_namespaces: list[str] = []
    made_links: list[str] = []
    machines: list[Machine] = []
    redis_server: subprocess.Popen[bytes] | None = None
    files = {**PROJECT, **STREAM_FILES, "steps/cron/every_second_step.py": CRON_STEP}
    try:
        for index in range(2):
            namespace, host_link = f"motia-{tag}-{index}", f"mt{tag}h{index}"
            inner_link = f"mt{tag}n{index}"
            added = _ip("netns", "add", namespace, check=False)
            if added.returncode != 0:
                pytest.skip(f"`ip netns add` is not permitted here: {added.stderr.strip()}")
            made_namespaces.append(namespace)
            _ip("link", "add", host_link, "type", "veth", "peer", "name", inner_link)
            made_links.append(host_link)
            host_address, address = f"10.{subnet}.{index}.1", f"10.{subnet}.{index}.2"
            _ip("addr", "add", f"{host_address}/24", "dev", host_link)
            _ip("link", "set", host_link, "up")
            _ip("link", "set", inner_link, "netns", namespace)
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", inner_link)
            _ip("-n", namespace, "link", "set", inner_link, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            project = write_project(tmp_path / f"machine-{index}", files)
            machines.append(
                Machine(namespace, host_link, inner_link, host_address, address, project)
            )
        redis_dir = tmp_path / "redis"
        redis_dir.mkdir()
        binds = [m.host_address for m in machines]
        redis_server = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(REDIS_PORT),
                "--bind",
                *binds,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(redis_dir),
                "--protected-mode",
                "no",
            ],
            stdout=(redis_dir / "redis.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        probe = redis.Redis(host=binds[0], port=REDIS_PORT, socket_connect_timeout=1)
        try:
            wait_for(lambda: _pings(probe), 10, what="the Redis server on the veth address")
        finally:
            probe.close()
        yield machines
    finally:
        for machine in machines:
            machine.stop()
        if redis_server is not None:
            redis_server.terminate()
            try:
                redis_server.wait(10)
            except subprocess.TimeoutExpired:
                redis_server.kill()
                redis_server.wait(5)
        for link in made_links:
            _ip("link", "del", link, check=False)  # removes its peer too
        for namespace in made_namespaces:
            _ip("netns", "del", namespace, check=False)
        left = _ip("netns", "list", check=False).stdout
        assert f"motia-{tag}" not in left, f"a namespace was left behind: {left}"


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _start_both(machines: list[Machine]) -> tuple[Machine, Machine]:
    for machine in machines:
        # each namespace reaches Redis at the host side of its own link
        machine.start(f"redis://{machine.host_address}:{REDIS_PORT}/0")
    for machine in machines:
        machine.wait_ready()
    a, b = machines
    return a, b


def _reaches(namespace: str, address: str) -> bool:
    """Whether a TCP connection from `namespace` to a Motia server at `address` opens."""
    code = (
        "import socket, sys; s = socket.socket(); s.settimeout(2); "
        f"sys.exit(0 if s.connect_ex(({address!r}, {MOTIA_PORT})) == 0 else 1)"
    )
    probe = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", code],
        capture_output=True,
        timeout=15,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.async_timeout(90)
async def test_events_streams_and_cron_cross_namespaces_through_one_redis(
    machines: list[Machine],
) -> None:
    a, b = await asyncio.to_thread(_start_both, machines)
    pid_a, pid_b = a.process.pid, b.process.pid  # type: ignore[union-attr]
    # The premise: nothing but Redis joins them. A reaches its own server, not B's.
    assert await asyncio.to_thread(_reaches, a.namespace, a.address)
    assert not await asyncio.to_thread(_reaches, a.namespace, b.address), "A reached B"

    # Events accepted in namespace A: B, idle, takes its share of them.
    sent = [f"order-{i:03d}" for i in range(20)]
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
        for order in sent:
            response = await http.post("/orders", json={"id": order, "sleep": 0.1})
            assert response.status_code == 201, response.text
            assert response.json()["pid"] == pid_a

    def handled() -> list[Run]:
        return a.runs("handled") + b.runs("handled")

    await asyncio.to_thread(
        wait_for, lambda: {r.ident for r in handled()} >= set(sent), 30, 0.1, "every order"
    )
    runs = handled()
    by_pid = Counter(run.pid for run in runs)
    print(f"accepted in {a.namespace} ({pid_a}); handled by {dict(by_pid)}")
    assert {run.pid for run in b.runs("handled")} == {pid_b} and b.runs("handled"), by_pid
    assert set(by_pid) == {pid_a, pid_b}
    assert Counter(run.ident for run in runs) == Counter(sent), "an event ran twice"

    # A stream change made through A reaches a WebSocket client connected to B.
    group = f"g-{uuid.uuid4().hex[:8]}"
    async with connect(f"ws://{b.address}:{MOTIA_PORT}/", open_timeout=5) as ws:

        async def frame() -> dict[str, Any]:
            async with asyncio.timeout(10):
                result: dict[str, Any] = json.loads(await ws.recv())
                return result

        join = {"streamName": "todo", "groupId": group, "subscriptionId": str(uuid.uuid4())}
        await ws.send(json.dumps({"type": "join", "data": join}))
        sync = await frame()
        assert sync["event"] == {"type": "sync", "data": []}, sync
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            created = await http.post(f"/todo/{group}/t1", json={"title": "across"})
            assert created.status_code == 200, created.text
            assert created.json()["pid"] == pid_a
        change = await frame()
        assert change["groupId"] == group and change["id"] == "t1", change
        assert change["event"] == {"type": "create", "data": {"title": "across", "id": "t1"}}

    # The one-second cron job: every tick runs once in all, in one namespace or the other.
    window_start = time.time()
    await asyncio.sleep(4.5)
    window_end = time.time() - 0.5
    ticks = a.runs("tick") + b.runs("tick")
    per_second = Counter(int(run.ident) for run in ticks)
    doubled = {second: n for second, n in per_second.items() if n > 1}
    assert not doubled, f"ticks ran in both namespaces: {doubled}"
    in_window = [run for run in ticks if window_start < int(run.ident) <= window_end]
    print(f"{len(in_window)} ticks in the window, by process: {Counter(r.pid for r in ticks)}")
    assert len(in_window) >= 3, f"too few ticks: {ticks}"
    assert {run.pid for run in ticks} <= {pid_a, pid_b}
