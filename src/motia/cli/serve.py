"""`motia dev` and `motia start`: load settings and the project, then serve with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import socket
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from motia.errors import ProjectInvalid, SettingsError
from motia.http.app import MotiaApp
from motia.http.http_protocol import HeaderLimits, ServerConfig
from motia.http.metrics_endpoint import METRICS_DIR_ENV
from motia.http.ws_protocol import StreamWebSocketProtocol
from motia.logs import Logger
from motia.runtime.classic_config import classic_redis_url
from motia.runtime.runtime import Runtime
from motia.settings import Mode, Settings, load_settings
from motia.typegen.project import write_types


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, which turns a clean stop
    into a death by signal (exit -15 or 130). A clean stop here exits 0.

    The stop is bounded by `shutdownTimeout` whatever the handlers do: event and cron work
    stops being taken the moment the signal arrives (not after the HTTP connections have
    drained), and a handler that ignores its cancellation cannot hold the process."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self._runtime = runtime

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._runtime.begin_stop()
        await super().shutdown(sockets)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        await super().serve(sockets)
        await self._leave_stuck_tasks()

    async def _leave_stuck_tasks(self) -> None:
        """After the runtime stopped, asyncio would cancel what is left and wait for it
        without a bound: a handler that swallows its cancellation would keep a process
        with no listener alive forever. Its message was handed back, so exit without it."""
        current = asyncio.current_task()
        left = [task for task in asyncio.all_tasks() if task is not current]
        for task in left:
            task.cancel()
        if not left:
            return
        _, stuck = await asyncio.wait(left, timeout=STUCK_TASK_GRACE)
        if stuck:
            self._runtime.logger.error(
                f"{len(stuck)} task(s) ignored their cancellation at shutdown (a handler "
                "that catches asyncio.CancelledError and carries on); exiting without them"
            )
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STUCK_TASK_GRACE = 1.0


WORKER_ENV = "MOTIA_WORKER_SETTINGS"


def serve(
    mode: Mode,
    project_dir: Path,
    *,
    port: int | None,
    host: str | None,
    debug: bool,
    memory: bool,
    workers: int = 1,
) -> None:
    flags: dict[str, Any] = {
        "port": port,
        "host": host,
        "log_level": "debug" if debug else None,
        "state_adapter": "memory" if memory else None,
        "queue_adapter": "memory" if memory else None,
        "streams_adapter": "memory" if memory else None,
    }
    settings = _load_settings(project_dir, mode, flags)
    if workers > 1 and not _all_shared(settings):
        raise SettingsError(
            "--workers needs every adapter on a store that processes share (SQLite, Redis or "
            "PostgreSQL): memory keeps each process's state to itself; drop --memory (or the "
            "memory adapters in config.yml)"
        )
    runtime = _load_or_exit(settings)
    if workers <= 1:
        server = _Server(_config(settings, MotiaApp(runtime)), runtime)
        _log_server_errors_to(runtime.logger)
        try:
            server.run()
        except SystemExit as exc:  # uvicorn exits 3 when start-up fails; we say 1
            sys.exit(0 if exc.code in (0, None) else 1)
        if not server.started:
            sys.exit(1)
        return
    # Each worker process builds its own runtime from the same project and flags; they
    # share the listening socket and, through the SQLite file (and its peer sockets),
    # Redis or PostgreSQL, everything else.
    del runtime
    os.environ[WORKER_ENV] = json.dumps(
        {"project_dir": str(settings.project_dir), "mode": mode, "flags": flags}
    )
    config = _config(settings, "motia.cli.serve:worker_app")
    config.factory = True
    config.workers = workers
    socket = config.bind_socket()
    # The workers leave their metrics here, so the one that answers a scrape adds them up.
    with tempfile.TemporaryDirectory(prefix="motia-metrics-") as metrics_dir:
        os.environ[METRICS_DIR_ENV] = metrics_dir
        Multiprocess(config, sockets=[socket]).run()


class _ServerLogBridge(logging.Handler):
    """uvicorn's own records (a request cancelled at shutdown, a protocol error) go to the
    project's log, so a JSON log holds only JSON records."""

    def __init__(self, logger: Logger) -> None:
        super().__init__(logging.WARNING)
        self._logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, str] = {}
        if record.exc_info and record.exc_info[1] is not None:
            fields["stack"] = "".join(traceback.format_exception(record.exc_info[1]))
        level = "error" if record.levelno >= logging.ERROR else "warn"
        getattr(self._logger, level)(f"server: {record.getMessage().strip()}", fields or None)


def _log_server_errors_to(logger: Logger) -> None:
    server_log = logging.getLogger("uvicorn.error")
    server_log.handlers = [_ServerLogBridge(logger)]
    server_log.propagate = False


def worker_app() -> MotiaApp:
    """The app of one `--workers` process (uvicorn calls this in each worker)."""
    spec = json.loads(os.environ[WORKER_ENV])
    settings = _load_settings(Path(spec["project_dir"]), spec["mode"], spec["flags"])
    return MotiaApp(_load_or_exit(settings))


def _load_settings(project_dir: Path, mode: Mode, flags: dict[str, Any]) -> Settings:
    """The settings, with the Redis a classic motia.config names when nothing else names
    one (it then counts as set in the environment)."""
    settings = load_settings(project_dir, mode, **flags)
    if settings.redis_url is not None:
        return settings
    url = classic_redis_url(settings.project_dir)
    if url is None:
        return settings
    return load_settings(project_dir, mode, {**os.environ, "MOTIA_REDIS_URL": url}, **flags)


def _all_shared(settings: Settings) -> bool:
    """Every adapter on a store that many processes share (the SQLite file is shared by
    the processes of one machine)."""
    stores = (settings.state_adapter, settings.queue_adapter, settings.streams_store)
    return all(store in ("sqlite", "redis", "postgres") for store in stores)


def _load_or_exit(settings: Settings) -> Runtime:
    try:
        return Runtime.load(settings, write_types=write_types)
    except ProjectInvalid as exc:
        for problem in exc.problems:
            label = "error" if problem.is_error else problem.severity
            print(f"{label}: {problem}", file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.is_error)
        print(f"motia start: the project has {errors} error(s); not starting", file=sys.stderr)
        sys.exit(1)


def _config(settings: Settings, app: Any) -> uvicorn.Config:
    return ServerConfig(
        app,
        # httptools, with limits on request headers (size, count, time to send them).
        header_limits=HeaderLimits.of(settings),
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        loop="auto",
        # Whole seconds, rounded up; 0 is "no wait" (uvicorn reads None as "forever").
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout),
        server_header=False,
        # X-Forwarded-For is Motia's to read, from `http.trustedProxies` only (uvicorn's
        # own reading would believe any local peer).
        proxy_headers=False,
        # Stream clients: protocol pings find dead peers; frames are small JSON messages,
        # written as the same bytes to every subscriber, so not compressed per connection.
        ws=StreamWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_max_size=1024 * 1024,
    )
