"""`create_tester()`: the whole project in-process, on memory adapters and a manual clock.

    async with create_tester("path/to/project") as tester:
        created = tester.watch("resource.created")
        response = await tester.post("/resources", json={"name": "a"})
        assert response.status_code == 201
        await tester.wait_until_idle()
        assert created.last["name"] == "a"

Requests go through the real ASGI app (validation, middleware, 400/404/413/500 included);
events run through the real queue, workers, retries and dead-letter queue; cron jobs run
on the real scheduler, driven by a `ManualClock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import fields, replace
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, TextIO, cast

from motia.adapters.queue.base import DeadLetter
from motia.clock import new_trace_id
from motia.logs import LogRecord
from motia.runtime.events import Event, parse_emit
from motia.runtime.streams import StreamEvent
from motia.settings import Settings, load_settings
from motia.steps.importer import activate, forget_project_modules, import_step_file
from motia.testing._logs import CaptureSink
from motia.testing.captures import EventWatcher, StreamCapture, TesterState
from motia.testing.clock import ManualClock
from motia.testing.failures import FailureTracker, FlowFailed, HandlerFailure
from motia.testing.idle import drain

if TYPE_CHECKING:
    import httpx

    from motia.http.app import MotiaApp
    from motia.runtime.runtime import Runtime

HTTPX_MISSING = (
    "motia.testing sends requests with httpx, which is not installed: "
    "pip install 'motia-python[testing]' (or pip install httpx)"
)

# Settings every tester uses unless `config` overrides them. Leases are counted on the
# manual clock, so a long one means moving the clock never makes a running handler's
# message look abandoned; the poll interval is real time, a safety net behind the
# notifications that wake workers at once.
TEST_SETTINGS: dict[str, Any] = {
    "state_adapter": "memory",
    "queue_adapter": "memory",
    "streams_adapter": "memory",
    "queue_lease_seconds": 3600.0,
    "queue_poll_interval": 0.02,
    "shutdown_timeout": 2.0,
}

__all__ = [
    "EventWatcher",
    "FlowFailed",
    "HandlerFailure",
    "MotiaTester",
    "StreamCapture",
    "TesterState",
    "create_tester",
    "import_step",
]


def _import_httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # httpx comes with the `testing` extra, not the package
        raise ImportError(HTTPX_MISSING) from exc
    return httpx


def _plain(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if k != "__motia"}
    return item


# --- the tester -------------------------------------------------------------------------


class MotiaTester:
    """A project running in-process. Start it with `async with`, or `await tester.start()`
    and `await tester.close()`; `await create_tester(...)` also starts it."""

    def __init__(
        self,
        project_dir: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
        clock: ManualClock | None = None,
        echo_logs: TextIO | None = None,
    ) -> None:
        self.project_dir = Path(project_dir).resolve()
        self.env = dict(env or {})
        self.config = dict(config or {})
        self.clock = clock or ManualClock()
        self._sink = CaptureSink("debug", echo_logs, "json")
        self._failures = FailureTracker()
        self.failures: list[HandlerFailure] = self._failures.failures  # every final one
        self._watchers: list[EventWatcher] = []
        self._captures: list[StreamCapture] = []
        self._requests = 0
        self._saved_env: dict[str, str | None] = {}
        self._cleanup: list[Callable[[], None]] = []
        self._runtime: Runtime | None = None
        self._app: MotiaApp | None = None
        self._client: httpx.AsyncClient | None = None
        self.state = TesterState(self)

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the tester is not started: use `async with create_tester(...)`")
        return self._runtime

    @property
    def app(self) -> MotiaApp:
        if self._app is None:
            raise RuntimeError("the tester is not started: use `async with create_tester(...)`")
        return self._app

    @property
    def started(self) -> bool:
        return self._runtime is not None

    async def start(self) -> MotiaTester:
        if self._runtime is not None:
            return self
        httpx = _import_httpx()
        from motia.http.app import MotiaApp
        from motia.runtime.runtime import Runtime

        unknown = sorted(set(self.config) - {f.name for f in fields(Settings)})
        if unknown:
            raise ValueError(
                f"unknown setting(s) in config: {', '.join(unknown)} (use Settings field "
                "names, e.g. max_body_size, event_concurrency, cron_timezone)"
            )
        self._apply_env()
        try:
            settings = load_settings(
                self.project_dir, "start", environ=self.env, **{**TEST_SETTINGS, **self.config}
            )
            if "sentry_dsn" not in self.config:  # tests report nothing to the project's Sentry
                settings = replace(settings, sentry_dsn=None)
            # Each tester imports the project afresh: no module state leaks between tests.
            forget_project_modules(self.project_dir)
            runtime = Runtime.load(settings, sink=self._sink, clock=self.clock)
            # Subscribed before the start, so not one run goes unheard.
            stop_tracking = runtime.add_hooks(self._failures)
            app = MotiaApp(runtime)
            await runtime.start()
        except BaseException:
            self._restore_env()
            raise
        self._runtime, self._app = runtime, app
        loop = asyncio.get_running_loop()

        def wake_workers() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(runtime.bus.notify_all)

        self._cleanup += [
            stop_tracking,
            runtime.bus.add_listener(self._hear_event),
            runtime.streams.hub.subscribe_all(self._hear_stream_event),
            self.clock.on_move(wake_workers),
        ]
        transport = httpx.ASGITransport(app=cast(Any, app))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return self

    async def close(self) -> None:
        """Stop the runtime (running handlers get `shutdown_timeout` seconds)."""
        runtime, self._runtime = self._runtime, None
        if runtime is None:
            return
        for undo in reversed(self._cleanup):
            with contextlib.suppress(ValueError, KeyError):
                undo()
        self._cleanup.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        try:
            await runtime.stop()
        finally:
            self._restore_env()
            # The runtime freezes what it loaded for the life of the process; a test
            # process starts many runtimes, so let the collector have them back.
            gc.unfreeze()

    async def __aenter__(self) -> MotiaTester:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, MotiaTester]:
        return self.start().__await__()

    def _apply_env(self) -> None:
        for name, value in self.env.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    # --- HTTP ----------------------------------------------------------------------------

    async def request(self, /, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any request through the real app; `kwargs` are httpx's (`json`, `content`,
        `headers`, `params`, ...)."""
        self.runtime  # noqa: B018 - raises when the tester is not started
        assert self._client is not None
        self._requests += 1
        try:
            return await self._client.request(method, path, **kwargs)
        finally:
            self._requests -= 1

    async def get(self, /, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, /, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, /, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, /, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, /, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    # --- events ----------------------------------------------------------------------------

    async def emit(self, event: Mapping[str, Any], *, trace_id: str | None = None) -> Event:
        """Publish `{"topic", "data", "messageGroupId"?}` to its subscribers, as
        `motia emit` does; returns the event (its `trace_id` names the flow)."""
        parsed = parse_emit(
            dict(event), trace_id or new_trace_id(), [], now=self.runtime.clock.time()
        )
        await self.runtime.bus.publish([parsed])
        return parsed

    def watch(self, topic: str) -> EventWatcher:
        """Capture every event emitted on `topic` from now on."""
        watcher = EventWatcher(topic, self._watchers.remove)
        self._watchers.append(watcher)
        return watcher

    def _hear_event(self, event: Event) -> None:
        for watcher in self._watchers:
            watcher.hear(event)

    # --- streams -----------------------------------------------------------------------------

    def stream(self, name: str) -> StreamCapture:
        """Capture every event of stream `name` from now on."""
        self.runtime.streams.definition(name)  # an unknown name fails here
        capture = StreamCapture(name, self._captures.remove)
        self._captures.append(capture)
        return capture

    def _hear_stream_event(self, event: StreamEvent) -> None:
        for capture in self._captures:
            capture.hear(event)

    async def stream_items(self, name: str, group_id: str) -> list[dict[str, Any]]:
        """The items of a stream group as stored (`{...data, "id"}`)."""
        items = await self.runtime.streams.get_group(name, str(group_id))
        return [_plain(item) for item in items]

    async def stream_item(self, name: str, group_id: str, item_id: str) -> dict[str, Any] | None:
        item = await self.runtime.streams.get(name, str(group_id), str(item_id))
        return None if item is None else cast(dict[str, Any], _plain(item))

    # --- logs and failures ---------------------------------------------------------------------

    @property
    def logs(self) -> list[LogRecord]:
        """Every log record since the start (`{"level", "msg", "step", "traceId", ...}`)."""
        return self._sink.records

    def logs_for(self, trace_id: str) -> list[LogRecord]:
        return [record for record in self._sink.records if record.get("traceId") == trace_id]

    async def dead_letters(self) -> list[DeadLetter]:
        return await self.runtime.queue.dead_letters(limit=100_000)

    # --- cron and time -------------------------------------------------------------------------

    def cron_steps(self) -> list[str]:
        return sorted(s.name for s in self.runtime.project.steps if s.type == "cron")

    async def run_cron(self, step_name: str) -> str:
        """Run a cron step once, now, as a tick would; re-raises what its handler raised.
        Returns the run's trace id."""
        step = next(
            (
                s
                for s in self.runtime.project.steps
                if s.name == step_name and s.type == "cron" and s.handler is not None
            ),
            None,
        )
        if step is None:
            known = ", ".join(self.cron_steps()) or "there are none"
            raise ValueError(f"no cron step named '{step_name}' (cron steps: {known})")
        trace_id = await self.runtime.cron.run_now(step)
        self._failures.collect_cron()
        self._failures.raise_for_trace(trace_id)
        return trace_id

    async def advance(self, seconds: float, *, timeout: float = 5.0) -> None:
        """Let `seconds` of fake time pass in order: every cron tick and every delayed or
        retried message due in that time happens at its own moment, and what it starts
        runs to the end. Raises like `wait_until_idle`."""
        until = self.clock.time() + seconds
        deadline = time.monotonic() + timeout
        await self._drain(deadline, until=until, wake_timers=True)
        if self.clock.time() < until:
            self.clock.advance(until - self.clock.time())
        await self._drain(deadline, until=until, wake_timers=True)
        await self._raise_failures()

    # --- idleness ------------------------------------------------------------------------------

    async def wait_until_idle(self, timeout: float = 5.0, *, raise_errors: bool = True) -> None:
        """Return once every queue is empty and no handler runs.

        Work that is only waiting for time to pass (retry backoff, `delaySeconds`) makes the
        clock jump straight to it, so retries finish in no real time; cron timers never
        move the clock here (use `advance` or `clock.advance` for them). When a flow ended
        in the dead-letter queue, or a cron run failed, since the last call, the first such
        failure is raised: the handler's own exception when there is one, otherwise
        `FlowFailed`. A message that failed and then succeeded on a retry raises nothing.
        With `raise_errors=False` failures are only added to `tester.failures`.
        `timeout` is wall time; running past it raises `TimeoutError`.
        """
        await self._drain(time.monotonic() + timeout, until=None, wake_timers=False)
        if raise_errors:
            await self._raise_failures()
        else:
            # Recorded in `failures`, never raised.
            await self._collect_failures()
            self._failures.forget_unraised()

    async def _drain(self, deadline: float, *, until: float | None, wake_timers: bool) -> None:
        await drain(
            self.runtime,
            self.clock,
            deadline=deadline,
            until=until,
            wake_timers=wake_timers,
            requests=lambda: self._requests,
        )

    async def _collect_failures(self) -> None:
        self._failures.collect(await self.dead_letters())

    async def _raise_failures(self) -> None:
        await self._collect_failures()
        self._failures.raise_first()

    # --- helpers -------------------------------------------------------------------------------

    def steps(self) -> list[str]:
        return sorted(step.name for step in self.runtime.project.steps)

    def __repr__(self) -> str:
        state = "running" if self.started else "stopped"
        return f"MotiaTester({str(self.project_dir)!r}, {state}, {self.clock!r})"


def create_tester(
    project_dir: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    clock: ManualClock | None = None,
    echo_logs: TextIO | None = None,
) -> MotiaTester:
    """A tester for the project in `project_dir`; start it with `async with` (or `await`).

    - `env`: environment variables, set in `os.environ` while the tester runs (restored at
      close) and the only ones the settings see (the shell's `MOTIA_*` are ignored).
    - `config`: settings overrides by field name (`{"max_body_size": 1024}`); adapters are
      memory ones unless overridden here.
    - `clock`: a `ManualClock` to start from (default: 2025-01-01T00:00:00Z).
    - `echo_logs`: a stream to print log lines to, e.g. `sys.stdout` (default: captured only,
      see `tester.logs`).
    """
    return MotiaTester(project_dir, env=env, config=config, clock=clock, echo_logs=echo_logs)


def import_step(project_dir: str | os.PathLike[str], path: str | os.PathLike[str]) -> ModuleType:
    """Import one step file as the runtime does (so its relative and `steps.*` imports
    work), for unit tests: `import_step(root, "steps/events/process_step.py").handler`."""
    root = Path(project_dir).resolve()
    file = Path(path)
    file = (file if file.is_absolute() else root / file).resolve()
    activate(root)
    return import_step_file(root, file, fresh=True)
