"""GET /__motia/metrics: Prometheus metrics of the step runs, queues and build.

On in `motia dev`; in `motia start` only with `metrics.enabled`, and behind
`metrics.token` when one is set. The counters come from `runtime.metrics.RunMetrics`; the
gauges (queue depth, the age of the oldest waiting message) are read from the store at
scrape time, so every process of a deployment answers the same for them.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from motia import __version__
from motia.adapters.queue.base import QueueStats
from motia.errors import StoreUnavailable
from motia.runtime.metrics import Gauge, MetricsFolder, RunMetrics
from motia.system_paths import SYSTEM_PREFIX
from motia.tasks import start_task, stop_task

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime

METRICS_PATH = f"{SYSTEM_PREFIX}/metrics"
# The folder the processes of `motia start --workers N` share for their counts.
METRICS_DIR_ENV = "MOTIA_METRICS_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WRITE_INTERVAL = 1.0  # seconds between two writes of this process's counts

_T = TypeVar("_T")


class MetricsEndpoint:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.enabled = settings.metrics_enabled
        token = settings.metrics_token
        self._token = token.encode() if token else None
        self.metrics = RunMetrics()
        folder = os.environ.get(METRICS_DIR_ENV)
        self._folder = MetricsFolder(Path(folder)) if folder and self.enabled else None
        self._writer: asyncio.Task[None] | None = None
        # One write at a time, in the order the snapshots were taken: a file never goes
        # back to older counts, and two writes never cross in it.
        self._writing = asyncio.Lock()
        self._in_flight: asyncio.Future[Any] | None = None
        self._written: dict[str, Any] | None = None
        if self.enabled:
            runtime.add_hooks(self.metrics)

    def routes(self) -> list[Route]:
        return [Route(METRICS_PATH, self.scrape, methods=["GET"])] if self.enabled else []

    async def start(self) -> None:
        if self._folder is not None:
            self._writer = start_task(
                self._keep_writing(self._folder), self.runtime.logger, "writing metrics"
            )

    async def stop(self) -> None:
        await stop_task(self._writer)
        self._writer = None
        if self._folder is not None:
            folder = self._folder
            # A stopped process holds nothing any more: no open subscriptions.
            await self._in_turn(lambda snapshot: folder.write({**snapshot, "live": {}}))

    def snapshot(self) -> dict[str, Any]:
        """This process's counts, with the runtime's own counters read in now."""
        runtime, metrics = self.runtime, self.metrics
        metrics.cron_skips.values = {(k,): float(v) for k, v in runtime.cron.skipped.items()}
        # Updated, not replaced: the counts stay after the runners stop at shutdown.
        metrics.runner_restarts.values.update(
            {(s.language.label,): float(s.restarts) for s in runtime.runners.supervisors.values()}
        )
        streams = runtime.streams
        metrics.stream_changes.values = {k: float(v) for k, v in streams.published.items()}
        metrics.stream_messages.values = {k: float(v) for k, v in streams.hub.sent.items()}
        metrics.stream_subscribers.values = {
            (name,): float(streams.hub.listener_count(name)) for name in streams.definitions
        }
        return metrics.snapshot()

    async def _keep_writing(self, folder: MetricsFolder) -> None:
        while True:
            if self.snapshot() != self._written:
                await self._in_turn(folder.write)
            await asyncio.sleep(WRITE_INTERVAL)

    async def _deployment_snapshots(self, folder: MetricsFolder) -> list[dict[str, Any]]:
        """The counts of every process, this one's written first (see `runtime.metrics`)."""
        found: list[dict[str, Any]] = await self._in_turn(folder.exchange)
        return found

    async def _in_turn(self, write: Callable[[dict[str, Any]], _T]) -> _T:
        """Hand a snapshot taken now to `write`, in a thread, after every earlier write.

        A write that has begun runs to its end even when the task that asked for it is
        cancelled (the periodic writer at shutdown), and the next one waits for it."""
        async with self._writing:
            if self._in_flight is not None:
                await asyncio.wait([self._in_flight])
                if not self._in_flight.cancelled():
                    self._in_flight.exception()  # seen: its task was cancelled, not told
            snapshot = self.snapshot()
            self._in_flight = asyncio.ensure_future(asyncio.to_thread(write, snapshot))
            result: _T = await asyncio.shield(self._in_flight)
            self._written = snapshot
            return result

    async def scrape(self, request: Request) -> Response:
        if not self._authorized(request.headers.get("authorization", "")):
            return JSONResponse(
                {"error": "metrics need the token of metrics.token (Authorization: Bearer …)"},
                status_code=401,
                headers={"www-authenticate": 'Bearer realm="motia metrics"'},
            )
        if self._folder is None:
            snapshots = [self.snapshot()]
        else:
            snapshots = await self._deployment_snapshots(self._folder)
        gauges = [_build_info(), *await self._queue_gauges()]
        text = self.metrics.render(snapshots, gauges)
        return Response(text, media_type=CONTENT_TYPE)

    def _authorized(self, header: str) -> bool:
        if self._token is None:
            return True
        if not header.lower().startswith("bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self._token)

    async def _queue_gauges(self) -> list[Gauge]:
        runtime = self.runtime
        stats: list[QueueStats] = []
        up = 1.0
        try:
            for name in runtime.bus.subscriber_names():
                stats.append(await runtime.queue.stats(name))
        except StoreUnavailable:
            up = 0.0  # the store is down: say so rather than answer with stale depths
            stats = []
        depth = [
            ((s.subscriber, state), float(value))
            for s in stats
            for state, value in (
                ("waiting", s.waiting),
                ("in_flight", s.in_flight),
                ("delayed", s.delayed),
                ("dead", s.dead),
            )
        ]
        return [
            Gauge(
                "motia_queue_messages",
                "Messages of each subscriber by state, read from the store",
                ("subscriber", "state"),
                depth,
            ),
            Gauge(
                "motia_queue_oldest_message_age_seconds",
                "Age of the oldest message of each subscriber that a worker could take now "
                "(visible, not in flight); 0 when none waits. Read from the store",
                ("subscriber",),
                [((s.subscriber,), s.oldest_age) for s in stats],
            ),
            Gauge(
                "motia_store_up", "Whether the queue's store answered this scrape", (), [((), up)]
            ),
        ]


def _build_info() -> Gauge:
    return Gauge(
        "motia_build_info",
        "The Motia and Python versions of this process",
        ("version", "python"),
        [((__version__, platform.python_version()), 1.0)],
    )
