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
import itertools
import os
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, TextIO, cast

from motia.adapters.memory.queue import MemoryQueueAdapter
from motia.adapters.queue.base import DeadLetter
from motia.clock import new_trace_id
from motia.logs import LogRecord
from motia.runtime.context import FlowContext
from motia.runtime.dispatch import Dispatcher
from motia.runtime.events import Event, parse_emit
from motia.runtime.streams import StreamEvent
from motia.settings import Settings, load_settings
from motia.steps.importer import activate, forget_project_modules, import_step_file
from motia.steps.model import Step
from motia.testing._logs import CaptureSink
from motia.testing.clock import ManualClock

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

# How many consecutive loop turns must see nothing change before the runtime counts as idle.
QUIET_TURNS = 3


def _import_httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # httpx comes with the `testing` extra, not the package
        raise ImportError(HTTPX_MISSING) from exc
    return httpx


# --- failures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HandlerFailure:
    """A run that failed for good: an event moved to the dead-letter queue, or a cron run
    that raised. `exception` is the object the handler raised, when there was one."""

    step: str
    kind: str  # "event" | "cron"
    trace_id: str
    error: str
    exception: BaseException | None = None
    topic: str | None = None
    attempts: int = 1
    data: Any = None
    reason: str = "handler failed"

    def describe(self) -> str:
        where = f"step '{self.step}'"
        if self.topic is not None:
            where += f" on topic '{self.topic}'"
        what = (
            f"after {self.attempts} attempt(s), moved to the dead-letter queue"
            if self.kind == "event"
            else "cron run failed"
        )
        return f"{where} ({what}; trace {self.trace_id}): {self.error}"


class FlowFailed(AssertionError):
    """A flow ended in the dead-letter queue without a Python exception to re-raise (its
    input did not match the schema, or its attempts ran out)."""

    def __init__(self, failure: HandlerFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


@dataclass
class _Raised:
    seq: int
    step: Step
    ctx: FlowContext | None
    error: BaseException


class _RecordingDispatcher(Dispatcher):
    """The runtime's dispatcher, also counting running handlers and keeping what they raise
    (the queue keeps only the text of an error; tests want the exception itself)."""

    def __init__(
        self, sync_threads: int, per_step: int | None, steps: Callable[[], list[Step]]
    ) -> None:
        super().__init__(sync_threads, per_step)
        self._steps = steps
        self.active = 0
        self.started = 0
        self.raised: list[_Raised] = []
        self._seq = itertools.count()

    def _step_of(self, handler: Callable[..., Any]) -> Step | None:
        for step in self._steps():
            if step.handler is handler:
                return step
        return None

    async def call(
        self,
        handler: Callable[..., Any],
        args: tuple[Any, ...],
        timeout: float | None = None,
        step: str = "",
    ) -> Any:
        self.active += 1
        self.started += 1
        try:
            return await super().call(handler, args, timeout, step)
        except Exception as exc:
            owner = self._step_of(handler)
            if owner is not None:
                ctx = args[-1] if args and isinstance(args[-1], FlowContext) else None
                self.raised.append(_Raised(next(self._seq), owner, ctx, exc))
            raise
        finally:
            self.active -= 1


# --- captures ---------------------------------------------------------------------------


class EventWatcher:
    """What `tester.watch(topic)` returns: every event emitted on the topic from then on."""

    def __init__(self, topic: str, stop: Callable[[EventWatcher], None]) -> None:
        self.topic = topic
        self.records: list[Event] = []
        self._stop = stop

    def _hear(self, event: Event) -> None:
        if event.topic == self.topic:
            self.records.append(event)

    @property
    def events(self) -> list[Any]:
        """The `data` of each captured event, in emission order."""
        return [event.data for event in self.records]

    @property
    def last(self) -> Any:
        """The `data` of the latest event; None when nothing was captured."""
        return self.records[-1].data if self.records else None

    @property
    def count(self) -> int:
        return len(self.records)

    def get(self, index: int) -> Any:
        return self.records[index].data

    def clear(self) -> None:
        self.records.clear()

    def close(self) -> None:
        """Stop capturing."""
        self._stop(self)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.events)

    def __repr__(self) -> str:
        return f"EventWatcher({self.topic!r}, count={self.count})"


class StreamCapture:
    """What `tester.stream(name)` returns: every change and custom event of the stream from
    then on, as `StreamEvent`s (`type` is create, update, delete or event)."""

    def __init__(self, name: str, stop: Callable[[StreamCapture], None]) -> None:
        self.name = name
        self.events: list[StreamEvent] = []
        self._stop = stop

    def _hear(self, event: StreamEvent) -> None:
        if event.stream == self.name:
            self.events.append(event)

    @property
    def last(self) -> StreamEvent | None:
        return self.events[-1] if self.events else None

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def types(self) -> list[str]:
        """The type of each event, in order: `['create', 'update', ...]`."""
        return [event.type for event in self.events]

    def in_group(self, group_id: str) -> list[StreamEvent]:
        return [event for event in self.events if event.group_id == group_id]

    def clear(self) -> None:
        self.events.clear()

    def close(self) -> None:
        self._stop(self)

    def __len__(self) -> int:
        return len(self.events)

    def __repr__(self) -> str:
        return f"StreamCapture({self.name!r}, count={self.count})"


class TesterState:
    """`tester.state`: read and change the project's state directly."""

    def __init__(self, tester: MotiaTester) -> None:
        self._tester = tester

    async def get(self, group_id: str, key: str) -> Any:
        return await self._tester.runtime.state.get(str(group_id), str(key))

    async def set(self, group_id: str, key: str, value: Any) -> Any:
        return await self._tester.runtime.state.set(str(group_id), str(key), value)

    async def delete(self, group_id: str, key: str) -> Any:
        return await self._tester.runtime.state.delete(str(group_id), str(key))

    async def get_group(self, group_id: str) -> list[Any]:
        return await self._tester.runtime.state.get_group(str(group_id))

    async def items(self, group_id: str) -> dict[str, Any]:
        return await self._tester.runtime.state.items(str(group_id))

    async def clear(self, group_id: str) -> None:
        await self._tester.runtime.state.clear(str(group_id))

    async def groups(self) -> list[str]:
        return await self._tester.runtime.state.groups()


@dataclass
class _Snapshot:
    running: int
    ready: int
    delayed: int
    signature: tuple[Any, ...]
    detail: list[str] = field(default_factory=list)


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
        self.failures: list[HandlerFailure] = []  # every final failure seen so far
        self._pending: list[tuple[int, HandlerFailure]] = []  # not raised yet
        self._seen_dead: set[str] = set()
        self._consumed_raises: set[int] = set()
        self._watchers: list[EventWatcher] = []
        self._captures: list[StreamCapture] = []
        self._events_seen = 0
        self._stream_events_seen = 0
        self._requests = 0
        self._saved_env: dict[str, str | None] = {}
        self._cleanup: list[Callable[[], None]] = []
        self._runtime: Runtime | None = None
        self._app: MotiaApp | None = None
        self._client: httpx.AsyncClient | None = None
        self._dispatcher: _RecordingDispatcher | None = None
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
            # Each tester imports the project afresh: no module state leaks between tests.
            forget_project_modules(self.project_dir)
            runtime = Runtime.load(settings, sink=self._sink, clock=self.clock)
            dispatcher = _RecordingDispatcher(
                settings.sync_handler_threads,
                settings.sync_handler_threads_per_step,
                lambda: runtime.project.steps,
            )
            runtime.dispatcher.close()
            runtime.dispatcher = runtime.executor.dispatcher = dispatcher
            app = MotiaApp(runtime)
            await runtime.start()
        except BaseException:
            self._restore_env()
            raise
        self._runtime, self._app, self._dispatcher = runtime, app, dispatcher
        loop = asyncio.get_running_loop()

        def wake_workers() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(runtime.bus.notify_all)

        self._cleanup += [
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

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any request through the real app; `kwargs` are httpx's (`json`, `content`,
        `headers`, `params`, ...)."""
        self.runtime  # noqa: B018 - raises when the tester is not started
        assert self._client is not None
        self._requests += 1
        try:
            return await self._client.request(method, path, **kwargs)
        finally:
            self._requests -= 1

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    # --- events ----------------------------------------------------------------------------

    async def emit(self, event: Mapping[str, Any], *, trace_id: str | None = None) -> Event:
        """Publish `{"topic", "data", "messageGroupId"?}` to its subscribers, as
        `motia emit` does; returns the event (its `trace_id` names the flow)."""
        parsed = parse_emit(dict(event), trace_id or new_trace_id(), [])
        await self.runtime.bus.publish([parsed])
        return parsed

    def watch(self, topic: str) -> EventWatcher:
        """Capture every event emitted on `topic` from now on."""
        watcher = EventWatcher(topic, self._watchers.remove)
        self._watchers.append(watcher)
        return watcher

    def _hear_event(self, event: Event) -> None:
        self._events_seen += 1
        for watcher in self._watchers:
            watcher._hear(event)

    # --- streams -----------------------------------------------------------------------------

    def stream(self, name: str) -> StreamCapture:
        """Capture every event of stream `name` from now on."""
        self.runtime.streams.definition(name)  # an unknown name fails here
        capture = StreamCapture(name, self._captures.remove)
        self._captures.append(capture)
        return capture

    def _hear_stream_event(self, event: StreamEvent) -> None:
        self._stream_events_seen += 1
        for capture in self._captures:
            capture._hear(event)

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
        self._collect_cron_failures()
        for index, (_, failure) in enumerate(self._pending):
            if failure.trace_id == trace_id:
                del self._pending[index]
                _raise(failure, [])
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
            self._pending.clear()

    async def _drain(self, deadline: float, *, until: float | None, wake_timers: bool) -> None:
        runtime = self.runtime
        quiet = 0
        nudged = False
        previous: tuple[Any, ...] | None = None
        spins = 0
        while True:
            snapshot = await self._snapshot()
            if snapshot.running == 0 and snapshot.signature == previous:
                quiet += 1
            else:
                quiet = 0
            previous = snapshot.signature
            if quiet >= QUIET_TURNS:
                if snapshot.ready and not nudged:
                    # Ready messages nobody leases: wake the workers once, in case a
                    # notification went missing, before deciding they are blocked.
                    runtime.bus.notify_all()
                    nudged, quiet = True, 0
                    continue
                candidates: list[float] = []
                if snapshot.delayed:
                    due = await self._next_delayed()
                    if due is not None:
                        candidates.append(due)
                if wake_timers:
                    timer = self.clock.next_timer()
                    if timer is not None:
                        candidates.append(timer)
                target = min(candidates) if candidates else None
                if target is not None and (until is None or target <= until):
                    self.clock.advance_to_time(target)
                    runtime.bus.notify_all()
                    quiet, nudged, previous = 0, False, None
                    continue
                if not snapshot.ready:
                    return  # idle (anything left waits beyond `until`)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "the project did not become idle in time; still pending: "
                    + ("; ".join(snapshot.detail) or "work in progress")
                )
            spins += 1
            # Zero-duration yields while things move; a short real pause while a handler
            # does real waiting (a thread, I/O), so the loop does not spin flat out.
            await asyncio.sleep(0 if quiet or spins < 200 or spins % 10 else 0.001)

    async def _snapshot(self) -> _Snapshot:
        runtime = self.runtime
        dispatcher = self._dispatcher
        assert dispatcher is not None
        stats = [await runtime.queue.stats(name) for name in runtime.bus.subscriber_names()]
        cron_running = len(getattr(runtime.cron, "_running", ()))
        leased = sum(s.in_flight for s in stats)
        running = (
            dispatcher.active
            + runtime.bus.in_flight()
            + cron_running
            + self.clock.pending_wakeups
            + self._requests
            + leased
        )
        ready = sum(max(0, s.waiting - s.delayed) for s in stats)
        delayed = sum(s.delayed for s in stats)
        detail = [
            f"{s.subscriber}: {s.waiting} waiting ({s.delayed} delayed), {s.in_flight} running"
            for s in stats
            if s.waiting or s.in_flight
        ]
        if cron_running:
            detail.append(f"{cron_running} cron run(s)")
        if dispatcher.active:
            detail.append(f"{dispatcher.active} handler(s) running")
        signature = (
            tuple((s.subscriber, s.waiting, s.in_flight, s.delayed, s.dead) for s in stats),
            dispatcher.started,
            len(dispatcher.raised),
            self._events_seen,
            self._stream_events_seen,
            len(self._sink.records),
        )
        return _Snapshot(running, ready, delayed, signature, detail)

    async def _next_delayed(self) -> float | None:
        """When the earliest message waiting for time to pass becomes visible."""
        runtime = self.runtime
        now = self.clock.time()
        queue = runtime.queue
        times: list[float] = []
        if isinstance(queue, MemoryQueueAdapter):
            # The memory queue knows each message's own visibility; a FIFO group blocked
            # behind a retrying head shows up only here.
            for entries in queue._queues.values():
                times += [e.visible_at for e in entries.values() if e.visible_at > now]
        else:
            for name in runtime.bus.subscriber_names():
                at = await queue.next_visible_at(name)
                if at is not None and at > now:
                    times.append(at)
        return min(times) if times else None

    # --- failures -----------------------------------------------------------------------------

    def _collect_cron_failures(self) -> None:
        dispatcher = self._dispatcher
        assert dispatcher is not None
        for raised in dispatcher.raised:
            if raised.seq in self._consumed_raises or raised.step.type != "cron":
                continue
            self._consumed_raises.add(raised.seq)
            failure = HandlerFailure(
                step=raised.step.name,
                kind="cron",
                trace_id=raised.ctx.trace_id if raised.ctx is not None else "",
                error=f"{type(raised.error).__name__}: {raised.error}",
                exception=raised.error,
            )
            self.failures.append(failure)
            self._pending.append((raised.seq, failure))

    async def _collect_failures(self) -> None:
        self._collect_cron_failures()
        dispatcher = self._dispatcher
        assert dispatcher is not None
        letters = sorted(await self.dead_letters(), key=lambda d: d.failed_at)
        for letter in letters:
            if letter.id in self._seen_dead:
                continue
            self._seen_dead.add(letter.id)
            match = next(
                (
                    r
                    for r in reversed(dispatcher.raised)
                    if r.ctx is not None
                    and r.step.name == letter.subscriber
                    and r.ctx.trace_id == letter.trace_id
                    and r.ctx.event_id == letter.event_id
                    and r.ctx.attempt == letter.attempts
                ),
                None,
            )
            failure = HandlerFailure(
                step=letter.subscriber,
                kind="event",
                trace_id=letter.trace_id,
                error=letter.error,
                exception=match.error if match is not None else None,
                topic=letter.topic,
                attempts=letter.attempts,
                data=letter.data,
                reason=letter.reason,
            )
            self.failures.append(failure)
            seq = match.seq if match is not None else len(dispatcher.raised) + len(self._pending)
            self._pending.append((seq, failure))
        self._pending.sort(key=lambda pair: pair[0])

    async def _raise_failures(self) -> None:
        await self._collect_failures()
        if not self._pending:
            return
        pending = [failure for _, failure in self._pending]
        self._pending.clear()
        _raise(pending[0], pending[1:])

    # --- helpers -------------------------------------------------------------------------------

    def steps(self) -> list[str]:
        return sorted(step.name for step in self.runtime.project.steps)

    def __repr__(self) -> str:
        state = "running" if self.started else "stopped"
        return f"MotiaTester({str(self.project_dir)!r}, {state}, {self.clock!r})"


def _raise(failure: HandlerFailure, others: list[HandlerFailure]) -> None:
    notes = [f"motia: {failure.describe()}"]
    if others:
        notes.append(f"motia: and {len(others)} more failure(s):")
        notes += [f"  - {other.describe()}" for other in others]
    error = failure.exception
    if error is None:
        error = FlowFailed(failure)
        notes = notes[1:]
    for note in notes:
        error.add_note(note)
    raise error


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
