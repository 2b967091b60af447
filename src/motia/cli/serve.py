"""`motia dev` and `motia start`: load settings and the project, then serve with uvicorn."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from motia.errors import ProjectInvalid
from motia.http.app import MotiaApp
from motia.runtime.runtime import Runtime
from motia.settings import Mode, load_settings


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, which turns a clean stop
    into a death by signal (exit -15 or 130). A clean stop here exits 0."""

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


def serve(
    mode: Mode,
    project_dir: Path,
    *,
    port: int | None,
    host: str | None,
    debug: bool,
    memory: bool,
) -> None:
    settings = load_settings(
        project_dir,
        mode,
        port=port,
        host=host,
        log_level="debug" if debug else None,
        state_adapter="memory" if memory else None,
        queue_adapter="memory" if memory else None,
    )
    try:
        runtime = Runtime.load(settings)
    except ProjectInvalid as exc:
        for problem in exc.problems:
            label = "error" if problem.is_error else "warning"
            print(f"{label}: {problem}", file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.is_error)
        print(f"motia start: the project has {errors} error(s); not starting", file=sys.stderr)
        sys.exit(1)
    config = uvicorn.Config(
        MotiaApp(runtime),
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        loop="auto",
        http="auto",
        timeout_graceful_shutdown=int(settings.shutdown_timeout) or None,
        server_header=False,
        # Stream clients: protocol pings find dead peers; frames are small JSON messages.
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_max_size=1024 * 1024,
    )
    server = _Server(config)
    server.run()
    if not server.started:
        sys.exit(1)
