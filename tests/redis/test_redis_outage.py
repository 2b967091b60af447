"""Redis going away: a restart while requests flow loses nothing that was accepted and does
not take the server down; a Redis that cannot be reached at startup is a clear error; the
readiness endpoint reports an unreachable Redis. Each test runs its own `redis-server`."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess, free_port, wait_for, write_project
from tests.redis.conftest import OwnRedis
from tests.redis.support import PROJECT, handled_ids

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def own_env(redis_server: OwnRedis) -> dict[str, str]:
    return {"MOTIA_REDIS_URL": redis_server.url, "MOTIA_REDIS_PREFIX": "outage"}


def health(server: ServerProcess) -> httpx.Response:
    return server.client.get("/__motia/health", timeout=10)


class Traffic:
    """Threads sending `POST /orders` one after another until stopped; every answer (or
    transport error) is kept by order id."""

    def __init__(self, url: str, threads: int = 2) -> None:
        self.url = url
        self.results: dict[str, int | str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._next = 0
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(threads)]

    def _take(self) -> str:
        with self._lock:
            self._next += 1
            return f"order-{self._next:05d}"

    def _send(self) -> None:
        with httpx.Client(base_url=self.url, timeout=20) as client:
            while not self._stop.is_set():
                order = self._take()
                try:
                    response = client.post("/orders", json={"id": order})
                    outcome: int | str = response.status_code
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                    time.sleep(0.05)
                with self._lock:
                    self.results[order] = outcome

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a request did not finish in time"

    def accepted(self) -> set[str]:
        with self._lock:
            return {o for o, r in self.results.items() if isinstance(r, int) and r < 300}

    def count(self) -> int:
        with self._lock:
            return len(self.results)


def test_redis_restart_while_traffic_flows_loses_no_accepted_event(
    tmp_path: Path, servers: Servers, own_redis: OwnRedis
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    server = servers(project, env=own_env(own_redis))

    traffic = Traffic(server.url)
    traffic.start()
    try:
        wait_for(
            lambda: len(traffic.accepted()) >= 50, 10, what="traffic flowing before the restart"
        )
        before = traffic.count()
        own_redis.stop()
        down_at = time.monotonic()
        time.sleep(1.0)
        own_redis.start()
        up_after = time.monotonic() - down_at
        accepted_at_restart = len(traffic.accepted())
        # keep sending until requests are accepted again, and a little longer
        wait_for(
            lambda: len(traffic.accepted()) >= accepted_at_restart + 50,
            30,
            what="requests accepted again after the restart",
        )
        time.sleep(1.0)
    finally:
        traffic.stop()

    accepted = traffic.accepted()
    failed = {o: r for o, r in traffic.results.items() if o not in accepted}
    print(
        f"{len(traffic.results)} requests ({before} before Redis stopped), "
        f"{len(accepted)} accepted, {len(failed)} refused: {sorted(set(failed.values()), key=str)}"
        f"; Redis down for {up_after:.1f} s"
    )
    assert server.process.poll() is None, f"the server died:\n{server.output()[-3000:]}"
    for outcome in failed.values():
        # Refusing a request during the outage is fine; anything else (a 4xx) is not.
        assert not isinstance(outcome, int) or outcome >= 500, failed

    # Nothing accepted was lost: every order that got a 2xx has its event handled.
    wait_for(
        lambda: not (accepted - handled_ids(project)),
        30,
        what="every accepted order handled",
        interval=0.2,
    )
    assert wait_for(lambda: health(server).status_code == 200, 15, what="healthy after the restart")
    assert server.process.poll() is None


def test_startup_against_an_unreachable_redis_exits_1_naming_host_and_port(
    tmp_path: Path, servers: Servers
) -> None:
    port = free_port()  # nobody listens here
    project = write_project(tmp_path / "shop", PROJECT)
    started = time.monotonic()
    server = servers(
        project,
        env={"MOTIA_REDIS_URL": f"redis://127.0.0.1:{port}/0", "MOTIA_REDIS_PREFIX": "nowhere"},
        wait=False,
    )
    try:
        code = server.process.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running after 30 s:\n{server.output()}") from None
    output = server.output()
    print(f"exited with {code} after {time.monotonic() - started:.1f} s:\n{output[-1500:]}")
    assert code == 1, output
    assert f"cannot reach Redis at 127.0.0.1:{port}" in output, output
    assert "Traceback" not in output, output


def test_health_is_503_while_redis_is_down_and_200_again_after(
    tmp_path: Path, servers: Servers, own_redis: OwnRedis
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    server = servers(project, env=own_env(own_redis))
    assert health(server).status_code == 200

    own_redis.stop()
    response = wait_for(
        lambda: (r := health(server)).status_code == 503 and r,
        10,
        what="health 503 with Redis down",
    )
    body = response.json()
    print(body)
    assert body["status"] == "unavailable"
    assert f"127.0.0.1:{own_redis.port}" in body["problem"], body

    own_redis.start()
    wait_for(lambda: health(server).status_code == 200, 20, what="health 200 with Redis back")
    response = server.client.post("/orders", json={"id": "after-outage"})
    assert response.status_code == 201, response.text
    wait_for(lambda: "after-outage" in handled_ids(project), 10, what="the event handled")
    assert server.process.poll() is None
