"""Keeps one runner per language alive: starts it with the project's files, restarts it
with backoff when it dies, and hands invocations to whichever process is current."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from motia.logs import Logger
from motia.runners.languages import LANGUAGES, RunnerLanguage
from motia.runners.process import CallTarget, RunnerFailed, RunnerProcess
from motia.tasks import start_task, stop_task

START_TIMEOUT = 30.0  # hello and load; a cold TypeScript transpile of a big project takes a while
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0  # a runner up this long resets the backoff
# A runner that does not answer a ping within `ping_timeout` is stuck (a handler blocks its
# event loop): it is killed and restarted, which fails its invocations so that their events
# are retried. Pings go out a few times per timeout.
PINGS_PER_TIMEOUT = 3


class RunnerSupervisor:
    def __init__(
        self,
        language: RunnerLanguage,
        binary: str,
        project_dir: Path,
        files: list[str],
        logger: Logger,
        ping_timeout: float,
    ) -> None:
        self.language = language
        self.binary = binary
        self.project_dir = project_dir
        self.files = files
        self.logger = logger.child(f"{language.name}-runner", None, [])
        self._process: RunnerProcess | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._first_start: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.restarts = 0
        self.ping_timeout = ping_timeout

    async def start(self) -> None:
        """Start the runner; returns once it is ready, raises if the first start fails."""
        self._loop_task = start_task(
            self._keep_running(), self.logger, f"supervising the {self.language.label} runner"
        )
        await asyncio.shield(self._first_start)

    async def _keep_running(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stopping:
            started_at = time.monotonic()
            process = RunnerProcess(
                self.language, self.project_dir, self.logger, on_lost=self._lost
            )
            try:
                await self._start(process)
            except Exception as exc:
                if not isinstance(exc, RunnerFailed):
                    # Whatever went wrong, the next start is tried: a supervisor that
                    # stopped here would leave the steps of this language without a runner.
                    exc = RunnerFailed(
                        f"the {self.language.label} runner failed to start: "
                        f"{type(exc).__name__}: {exc}"
                    )
                if not self._first_start.done():
                    self._first_start.set_exception(exc)
                    return
                self.logger.error(f"{exc}; trying again in {backoff:g} s")
            else:
                if not self._first_start.done():
                    self._first_start.set_result(None)
                watchdog = start_task(
                    self._watch(process), self.logger, f"pinging the {self.language.label} runner"
                )
                try:
                    status = await asyncio.shield(process.exited)
                finally:
                    await stop_task(watchdog)
                self._ready.clear()
                if self._stopping:
                    return
                self.logger.error(
                    f"the {self.language.label} runner (pid {process.pid}) exited with status "
                    f"{status}; its running invocations failed and will be retried; "
                    f"restarting in {backoff:g} s"
                )
                if time.monotonic() - started_at > HEALTHY_AFTER:
                    backoff = FIRST_BACKOFF
            self.restarts += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _watch(self, process: RunnerProcess) -> None:
        if self.ping_timeout <= 0:
            return
        while True:
            await asyncio.sleep(self.ping_timeout / PINGS_PER_TIMEOUT)
            try:
                answered = await process.ping(self.ping_timeout)
            except RunnerFailed:
                return  # the runner stopped while the ping waited: the supervisor restarts it
            if not answered:
                process.failure = f"no answer to a ping for {self.ping_timeout:g} s"
                self.logger.error(
                    f"the {self.language.label} runner (pid {process.pid}) did not answer for "
                    f"{self.ping_timeout:g} s, so a handler is blocking it; killing it"
                )
                process.kill()
                return

    async def _start(self, process: RunnerProcess) -> None:
        try:
            await process.start(self.binary, START_TIMEOUT)
            reports = await process.load(self.files)
        except BaseException:
            process.kill()
            raise
        for report in reports:
            if report.error is not None:
                # The loader saw these files load; a file that fails now changed since.
                self.logger.error(f"{report.file}: {report.error.message}")
        self._process = process
        self._ready.set()

    def _lost(self, process: RunnerProcess) -> None:
        if process is self._process:
            self._ready.clear()  # new invocations wait for the next runner

    async def invoke(
        self, file: str, kind: str, input: Any, ctx: dict[str, Any], target: CallTarget
    ) -> Any:
        process = self._process
        if process is None or not process.alive or not self._ready.is_set():
            process = await self._next_process()
        return await process.invoke(file, kind, input, ctx, target)

    async def _next_process(self) -> RunnerProcess:
        try:
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    process = self._process
                    if process is not None and process.alive and self._ready.is_set():
                        return process
                    if self._ready.is_set():
                        # Killed a moment ago; its socket closes (and clears ready) next.
                        await asyncio.sleep(0.01)
                    else:
                        await self._ready.wait()
        except TimeoutError:
            raise RunnerFailed(
                f"the {self.language.label} runner is not running (it is restarting after "
                "a failure; see the log)"
            ) from None

    async def stop(self, timeout: float) -> None:
        self._stopping = True
        await stop_task(self._loop_task)
        if self._process is not None:
            await self._process.stop(timeout)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def ready(self) -> bool:
        """Whether a runner process is up and takes invocations now."""
        return self._ready.is_set()


class RunnerPool:
    """The runners of a project, one per language that has steps."""

    def __init__(
        self, project_dir: Path, logger: Logger, shutdown_timeout: float, ping_timeout: float
    ) -> None:
        self.project_dir = project_dir
        self.logger = logger
        self.shutdown_timeout = shutdown_timeout
        self.ping_timeout = ping_timeout
        self.supervisors: dict[str, RunnerSupervisor] = {}
        self.stream_names: list[str] = []

    async def apply(
        self, files: dict[str, list[str]], binaries: dict[str, str], restart: set[str]
    ) -> None:
        """Run a runner for each language in `files`; languages in `restart` get a fresh
        process (their files changed). Runners of languages no longer used are stopped."""
        old: list[RunnerSupervisor] = []
        for name in list(self.supervisors):
            if name not in files or name in restart or files[name] != self.supervisors[name].files:
                old.append(self.supervisors.pop(name))
        new: list[RunnerSupervisor] = []
        for name, language_files in files.items():
            if name in self.supervisors or name not in binaries:
                continue
            supervisor = RunnerSupervisor(
                LANGUAGES[name],
                binaries[name],
                self.project_dir,
                language_files,
                self.logger,
                self.ping_timeout,
            )
            new.append(supervisor)
            self.supervisors[name] = supervisor
        # New runners first, so work keeps flowing; then the old ones finish and stop,
        # whether or not every new one started.
        outcomes = await asyncio.gather(*(s.start() for s in new), return_exceptions=True)
        await asyncio.gather(*(s.stop(self.shutdown_timeout) for s in old))
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        for supervisor, outcome in zip(new, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                del self.supervisors[supervisor.language.name]
                await supervisor.stop(0)
        if failures:
            raise failures[0]

    def not_ready(self) -> list[str]:
        """The runners that cannot take invocations now (starting or restarting)."""
        return [s.language.label for s in self.supervisors.values() if not s.ready]

    async def invoke(
        self,
        language: str,
        file: str,
        kind: str,
        input: Any,
        ctx: dict[str, Any],
        target: CallTarget,
    ) -> Any:
        supervisor = self.supervisors.get(language)
        if supervisor is None:
            raise RunnerFailed(f"no {language} runner is running for {file}")
        return await supervisor.invoke(file, kind, input, ctx, target)

    async def stop(self, timeout: float | None = None) -> None:
        """Stop every runner; one still busy after `timeout` (the shutdown timeout unless
        given) is killed."""
        grace = self.shutdown_timeout if timeout is None else timeout
        await asyncio.gather(*(s.stop(grace) for s in self.supervisors.values()))
        self.supervisors.clear()
