"""A store restarted while requests flow: the traffic that runs through it and the checks
that nothing accepted was lost. Used by the Redis and PostgreSQL outage tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import ServerProcess, wait_for
from tests.redis.support import handled_ids


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


def restart_under_traffic(
    server: ServerProcess,
    project: Path,
    store: str,
    stop: Callable[[], None],
    start: Callable[[], None],
    flowing_within: float = 10,
) -> None:
    """Stop the store for a second while two threads post orders, start it again, then
    check: the server lives, refusals were 5xx or transport errors, every accepted order
    is handled and the server is healthy again."""
    traffic = Traffic(server.url)
    traffic.start()
    try:
        wait_for(
            lambda: len(traffic.accepted()) >= 50,
            flowing_within,
            what="traffic flowing before the restart",
        )
        before = traffic.count()
        stop()
        down_at = time.monotonic()
        time.sleep(1.0)
        start()
        down_for = time.monotonic() - down_at
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
        f"{len(traffic.results)} requests ({before} before {store} stopped), "
        f"{len(accepted)} accepted, {len(failed)} refused: {sorted(set(failed.values()), key=str)}"
        f"; {store} down for {down_for:.1f} s"
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

    def healthy() -> bool:
        return server.client.get("/__motia/ready", timeout=10).status_code == 200

    assert wait_for(healthy, 15, what="healthy after the restart")
    assert server.process.poll() is None
