"""The Runtime owns everything a running project needs, with one start and one stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from motia.adapters.factory import open_stores
from motia.auth.policy import NO_KEY, required_scopes, verifier_for
from motia.auth.streams import bind_stream_auth
from motia.clock import Clock
from motia.errors import ProjectInvalid, StartupFailed, StoreUnavailable
from motia.logs import Logger, LogSink
from motia.redaction import Redactor
from motia.runners.process import RunnerFailed
from motia.runners.remote import RemoteCanAccess, RemoteHandler, RemoteStreamAuth
from motia.runners.supervisor import RunnerPool
from motia.runtime.batch import BatchCollector
from motia.runtime.bus import EventBus
from motia.runtime.collector import settle_collector
from motia.runtime.cron import CronScheduler
from motia.runtime.dispatch import Dispatcher
from motia.runtime.executor import StepExecutor
from motia.runtime.flow_control import FlowGate
from motia.runtime.handler_tasks import install as contain_handler_tasks
from motia.runtime.hooks import HookChain, RunHooks
from motia.runtime.loading import LoadedProject, load_project
from motia.runtime.otel import install_otel
from motia.runtime.pending import Pending
from motia.runtime.process_pool import ProcessHandler, ProcessPool
from motia.runtime.rate_limits import RateLimits
from motia.runtime.recorder import Recorder
from motia.runtime.state_triggers import install_change_feeds
from motia.runtime.streams import StreamHub, StreamService
from motia.runtime.watch import SourceWatch
from motia.settings import CONFIG_FILE, Settings
from motia.steps.importer import forget_project_modules
from motia.steps.languages import runner_names, runner_source_suffixes
from motia.steps.routes import Router
from motia.system_paths import SYSTEM_PREFIX
from motia.tasks import start_task, stop_task

if TYPE_CHECKING:
    from motia.runtime.sentry import SentryReporter

# Writes the editor types of a loaded project; returns the file written, or None when the
# project needs none. The CLI passes the one of `motia.typegen`, which sits above the runtime.
TypesWriter = Callable[[Path, LoadedProject], Path | None]

# A change to one of these files restarts that runner: it cannot unload what it imported.
# Node also reloads the JSON files its modules import.
RUNNER_SUFFIXES = {
    runner: runner_source_suffixes(runner) + ((".json",) if runner == "node" else ())
    for runner in runner_names()
}


class Runtime:
    def __init__(
        self,
        settings: Settings,
        project: LoadedProject,
        *,
        sink: LogSink | None = None,
        clock: Clock | None = None,
        write_types: TypesWriter | None = None,
    ) -> None:
        self.settings = settings
        # Checks API and stream tokens; None when no key is configured.
        self.token_verifier = verifier_for(settings)
        self._types_writer = write_types
        self.project = project
        redact = (*settings.log_redact, *settings.log_redact_also)
        self.sink = sink or LogSink(settings.log_level, settings.log_format, redact=redact)
        self.logger = Logger(self.sink, None, None, [])
        self.clock = clock or Clock()
        self._stores = open_stores(settings, self.clock)
        self.state = self._stores.state
        self.queue = self._stores.queue
        # Every run is told to these: the recorder, the test kit, metrics, tracing.
        self.hooks = HookChain(self.logger)
        # Set whenever work may have finished: what join() waits on between counts.
        self._settled = asyncio.Event()
        self.dispatcher = Dispatcher(
            settings.sync_handler_threads,
            settings.sync_handler_threads_per_step,
            self.logger,
            block_warning=settings.loop_block_warning,
        )
        self.processes = ProcessPool(
            settings.project_dir, settings.executor_processes or os.cpu_count() or 1, self.logger
        )
        self.streams = StreamService(
            self._stores.streams, StreamHub(self._stores.broadcast), self.logger
        )
        self.executor = StepExecutor(
            state=self.state,
            queue=self.queue,
            logger=self.logger,
            clock=self.clock,
            dispatcher=self.dispatcher,
            streams=self.streams,
            hooks=self.hooks,
            atomic_state=settings.events_atomic_state,
        )
        # API steps' limits and `ctx.rate_limit` count in one place.
        self.rate_limits = RateLimits(
            self._stores.rate_limiter,
            self.logger,
            fail_closed=settings.rate_limit_on_store_failure == "closed",
        )
        self.executor.services.rate_limits = self.rate_limits
        # Event steps' concurrency, throttle and idempotency, shared by every process.
        gate = FlowGate(self._stores.flow_slots, self.queue, self.logger)
        self.bus = EventBus(
            self.queue,
            gate.wrap(BatchCollector(self.executor).wrap(self.executor.run_event)),
            self.clock,
            self.logger,
            concurrency=settings.event_concurrency,
            lease_seconds=settings.queue_lease_seconds,
            poll_interval=settings.queue_poll_interval,
            warn_unsubscribed=settings.mode == "dev",
            on_settled=self._settled.set,
        )
        self.executor.bus = self.bus
        self.cron = CronScheduler(
            self.executor,
            self.clock,
            settings.cron_timezone,
            self._stores.cron_locks,
            on_settled=self._settled.set,
        )
        self.router = Router(project.steps)
        self.runners = RunnerPool(
            settings.project_dir,
            self.logger,
            settings.shutdown_timeout,
            settings.runner_ping_timeout,
        )
        # Logs and traces are recorded for the workbench, so only when it can be used.
        self.recorder: Recorder | None = None
        if settings.internal_api_enabled:
            self.recorder = Recorder(
                self._stores.observability, self.sink, self.logger, settings.retention_seconds
            )
            self.hooks.add(self.recorder)
        # Sentry is imported, and costs a run anything, only when a DSN is set.
        self.error_reporter: SentryReporter | None = None
        if settings.sentry_dsn:
            from motia.runtime.sentry import SentryReporter

            self.error_reporter = SentryReporter(settings, Redactor(redact) if redact else None)
            self.hooks.add(self.error_reporter)
        # OpenTelemetry export, when the OTEL_* environment asks for it.
        service = settings.project_dir.resolve().name
        self.otel = install_otel(service, self.hooks, self.bus, self.sink, self.logger)
        self.ready = False
        self._watcher: asyncio.Task[None] | None = None
        self._sources = SourceWatch(settings.project_dir)
        self._stop_deadline: float | None = None
        self._release_task_factory: Callable[[], None] | None = None

    @classmethod
    def load(cls, settings: Settings, **kwargs: object) -> Runtime:
        """Load the project; `start` mode refuses a project with errors."""
        project = load_project(settings.project_dir)
        if project.errors and settings.mode == "start":
            raise ProjectInvalid(project.problems)
        return cls(settings, project, **kwargs)  # type: ignore[arg-type]

    def add_hooks(self, hooks: RunHooks) -> Callable[[], None]:
        """Hear every run (see `motia.runtime.hooks`); returns the function that stops it."""
        return self.hooks.add(hooks)

    async def pending(self) -> Pending:
        """The work not done yet, counted exactly: running handlers, queued, leased and
        delayed messages of every subscriber, cron runs in progress."""
        now = self.clock.time()
        names = self.bus.subscriber_names()
        stats = [await self.queue.stats(name) for name in names]
        due = [
            at for name in names if (at := await self.queue.next_delayed_at(name, now)) is not None
        ]
        detail = [
            f"{s.subscriber}: {s.waiting} waiting ({s.delayed} delayed), {s.in_flight} running"
            for s in stats
            if s.waiting or s.in_flight
        ]
        if self.cron.pending:
            detail.append(f"{self.cron.pending} cron run(s)")
        return Pending(
            handlers=self.bus.in_flight(),
            leased=sum(s.in_flight for s in stats),
            ready=sum(max(0, s.waiting - s.delayed) for s in stats),
            delayed=sum(s.delayed for s in stats),
            cron=self.cron.pending,
            leasing=self.bus.leasing(),
            next_due_at=min(due) if due else None,
            detail=detail,
        )

    async def join(self, timeout: float | None = None, *, delayed: bool = True) -> Pending:
        """Wait until every queue is empty, no handler runs and no cron run is going
        (`pending().total == 0`); returns the final count. With `delayed=False`, return
        as soon as nothing more can happen without time passing: what is left waits for a
        retry backoff, `delaySeconds` or the FIFO head in front of it (a manual clock has
        to move). Raises `TimeoutError` after `timeout` seconds, naming what is left.

        Counts are taken again each time a handler or cron run finishes or a worker has
        leased all it can, and at least every poll interval (another process sharing the
        store may finish work too)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            # Cleared before counting, so a run that ends while we count is not missed.
            self._settled.clear()
            pending = await self.pending()
            if (pending.total if delayed else pending.moving) == 0:
                return pending
            wait = self.settings.queue_poll_interval
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"the runtime did not become idle in {timeout:g} s; still pending: "
                        + pending.describe()
                    )
                wait = min(wait, left)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._settled.wait()

    async def check_stores(self, timeout: float) -> str | None:
        """None when every store answers; otherwise what is wrong, for people to read."""
        try:
            await self._stores.ping(timeout)
        except StoreUnavailable as exc:  # each backend's message names its store
            return str(exc)
        return None

    async def start(self) -> None:
        problem = await self.check_stores(timeout=5)
        if problem is not None:
            self.logger.error(problem)
            raise StartupFailed(problem)
        if self._release_task_factory is None:
            self._release_task_factory = contain_handler_tasks(
                asyncio.get_running_loop(), self.logger
            )
        if self.otel is not None:  # the export thread's warnings are logged on this loop
            self.otel.bind(asyncio.get_running_loop())
        self._report(self.project)
        unverifiable = self._unverifiable(self.project)
        if unverifiable is not None:
            self.logger.error(unverifiable)
            raise StartupFailed(unverifiable)
        await self._apply(self.project)
        self._write_types(self.project)
        # Messages other processes publish wake our idle workers, where the queue can say.
        await self.queue.watch(self.bus.wake)
        await self.streams.start()
        for backend in self._stores.backends:
            degraded = backend.degraded()
            if degraded is not None:
                self.logger.warn(degraded)
        if self.recorder is not None:
            self.recorder.start()
        if self.settings.mode == "dev":
            self._sources.remember_imports(self.project)
            self._watcher = start_task(self._watch(), self.logger, "watching the project files")
        self.ready = True
        settle_collector()
        url = base_url(self.settings.host, self.settings.port)
        self.logger.info(
            f"ready: {len(self.project.steps)} step(s) on {url}",
            {"state": self.settings.state_adapter, "queue": self.settings.queue_adapter},
        )
        if self.settings.internal_api_enabled:
            self.logger.info(f"workbench: {url}{SYSTEM_PREFIX}/")
        self.logger.info(f"API docs: {url}{SYSTEM_PREFIX}/docs")

    def _unverifiable(self, project: LoadedProject) -> str | None:
        """Steps that need a token cannot be served without a key to check it with."""
        if self.token_verifier is not None:
            return None
        required = self.settings.auth.required
        guarded = [
            step.name
            for step in project.steps
            if step.type == "api" and required_scopes(step.api.auth, required) is not None
        ]
        if not guarded:
            return None
        return f"step(s) {', '.join(guarded)} require a bearer token (auth) but {NO_KEY}"

    async def _apply(self, project: LoadedProject, restart: set[str] | None = None) -> None:
        await self._apply_runners(project, restart or set())
        self._apply_processes(project)
        project.authenticate = bind_stream_auth(project.authenticate, self.token_verifier)
        self.project = project
        self.router = Router(project.steps)
        self.streams.apply(project.streams)
        self.executor.services.changes = install_change_feeds(project.steps, self.bus, self.streams)
        await self.bus.apply(project.steps)
        self.cron.apply(project.steps)

    def _apply_processes(self, project: LoadedProject) -> None:
        """Steps with `"executor": "process"` run in the worker processes; workers that
        loaded the previous code retire."""
        self.processes.reset()
        self.processes.stream_names = sorted(stream.name for stream in project.streams)
        uses_processes = False
        for step in project.steps:
            if step.language == "python" and getattr(step.config, "executor", "") == "process":
                uses_processes = True
                if not isinstance(step.handler, ProcessHandler):
                    step.handler = ProcessHandler(self.processes, step.file, step.type, step.name)
        if uses_processes:
            self.processes.warm()

    async def _apply_runners(self, project: LoadedProject, restart: set[str]) -> None:
        """Start (or restart) the runners before anything can route work to them."""
        for step in project.steps:
            if isinstance(step.handler, RemoteHandler):
                step.handler.pool = self.runners
        for stream in project.streams:
            if isinstance(stream.config.can_access, RemoteCanAccess):
                stream.config.can_access.pool = self.runners
        if isinstance(project.authenticate, RemoteStreamAuth):
            project.authenticate.pool = self.runners
        self.runners.stream_names = sorted(stream.name for stream in project.streams)
        try:
            await self.runners.apply(project.runner_files, project.runner_binaries, restart)
        except RunnerFailed as exc:
            if self.settings.mode == "start":
                raise
            self.logger.error(f"{exc}; steps that need the runner fail until it starts")

    async def reload(self, changed: list[Path] | None = None) -> bool:
        """Load the project again; keeps serving the last good set when it has errors."""
        forget_project_modules(self.settings.project_dir)
        project = load_project(self.settings.project_dir)
        self._sources.remember_imports(project)
        self._report(project)
        unverifiable = self._unverifiable(project)
        if unverifiable is not None:
            self.logger.error(unverifiable)
        if project.errors or unverifiable is not None:
            self.logger.error(
                f"reload failed with {len(project.errors) + (unverifiable is not None)} "
                "error(s); still serving the last good version of the project"
            )
            return False
        await self._apply(project, _runners_to_restart(changed))
        self._write_types(project)
        self.logger.info(f"reloaded: {len(project.steps)} step(s)")
        return True

    def _write_types(self, project: LoadedProject) -> None:
        """In dev, keep `types.d.ts` in step with the TypeScript and JavaScript steps."""
        if self._types_writer is None or self.settings.mode != "dev" or project.errors:
            return
        try:
            written = self._types_writer(self.settings.project_dir, project)
        except OSError as exc:
            self.logger.warn(f"could not write types.d.ts: {exc}")
            return
        if written is not None:
            self.logger.info(f"wrote {written.name}")

    def _report(self, project: LoadedProject) -> None:
        for problem in project.problems:
            if problem.is_error:
                self.logger.error(str(problem))
            elif problem.severity == "info":
                self.logger.info(str(problem))
            else:
                self.logger.warn(str(problem))

    async def _watch(self) -> None:
        from watchfiles import awatch

        root = self.settings.project_dir

        def relevant(_change: object, path: str) -> bool:
            return self._sources.is_source(path)

        async for changes in awatch(root, watch_filter=relevant, debounce=200, step=50):
            if any(Path(path) == root / CONFIG_FILE for _, path in changes):
                self.logger.warn(f"{CONFIG_FILE} changed: restart `motia dev` to apply settings")
            try:
                await self.reload([Path(path) for _, path in changes])
            except Exception as exc:  # never let a reload bug take the server down
                self.logger.error(f"reload crashed: {type(exc).__name__}: {exc}")

    @property
    def draining(self) -> bool:
        """Whether the server was asked to stop (it finishes what runs, takes nothing new)."""
        return self._stop_deadline is not None

    async def begin_stop(self) -> None:
        """The server was asked to stop: lease no more events and fire no more ticks from
        now on. Running handlers have until `shutdownTimeout` from this moment, however
        long the HTTP connections take to drain."""
        if self._stop_deadline is None:
            self._stop_deadline = time.monotonic() + self.settings.shutdown_timeout
        self.ready = False
        await asyncio.gather(self.bus.stop_leasing(), self.cron.stop_scheduling())

    async def stop(self) -> None:
        """Stop taking work, let running handlers finish within the shutdown bound; what
        is still running then is cancelled and its messages handed back."""
        await self.begin_stop()
        assert self._stop_deadline is not None
        await stop_task(self._watcher)
        timeout = max(0.0, self._stop_deadline - time.monotonic())
        await asyncio.gather(self.cron.stop(timeout), self.bus.stop(timeout))
        await self.runners.stop(max(0.0, self._stop_deadline - time.monotonic()))
        await self.processes.stop(max(0.0, self._stop_deadline - time.monotonic()))
        await self.streams.stop()
        if self.recorder is not None:
            await self.recorder.stop()
        await self._stores.close()
        if self.error_reporter is not None:
            await asyncio.to_thread(self.error_reporter.flush)
        self.dispatcher.close()
        if self.otel is not None:  # the spans and logs of the last runs go out too
            await asyncio.to_thread(self.otel.shutdown)
        if self._release_task_factory is not None:
            self._release_task_factory()
            self._release_task_factory = None
        self.logger.info("stopped")


def _runners_to_restart(changed: list[Path] | None) -> set[str]:
    """The runners whose files changed; all of them when nobody knows what changed."""
    if changed is None:
        return set(RUNNER_SUFFIXES)
    return {
        runner
        for runner, suffixes in RUNNER_SUFFIXES.items()
        if any(path.name.endswith(suffixes) for path in changed)
    }


def base_url(host: str, port: int) -> str:
    """The address people open: a wildcard bind is reached through localhost."""
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"
