"""Keeps one runner per language alive: starts it with the project's files, restarts it
with backoff when it dies, and hands invocations to whichever process is current."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from motia.logs import Logger
from motia.runners.languages import LANGUAGES, RunnerLanguage
from motia.runners.process import CallTarget, RunnerFailed, RunnerProcess

START_TIMEOUT = 30.0  # hello and load; a cold TypeScript transpile of a big project takes a while
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0  # a runner up this long resets the backoff


class RunnerSupervisor:
    def __init__(
        self,
        language: RunnerLanguage,
        binary: str,
        project_dir: Path,
        files: list[str],
        logger: Logger,
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

    async def start(self) -> None:
        """Start the runner; returns once it is ready, raises if the first start fails."""
        self._loop_task = asyncio.get_running_loop().create_task(self._keep_running())
        await asyncio.shield(self._first_start)

    async def _keep_running(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stopping:
            started_at = time.monotonic()
            process = RunnerProcess(self.language, self.project_dir, self.logger)
            try:
                await self._start(process)
            except RunnerFailed as exc:
                if not self._first_start.done():
                    self._first_start.set_exception(exc)
                    return
                self.logger.error(f"{exc}; trying again in {backoff:g} s")
            else:
                if not self._first_start.done():
                    self._first_start.set_result(None)
                status = await asyncio.shield(process.exited)
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

    async def invoke(
        self, file: str, kind: str, input: Any, ctx: dict[str, Any], target: CallTarget
    ) -> Any:
        process = self._process
        if process is None or not self._ready.is_set():
            try:
                async with asyncio.timeout(START_TIMEOUT):
                    await self._ready.wait()
            except TimeoutError:
                raise RunnerFailed(
                    f"the {self.language.label} runner is not running (it is restarting after "
                    "a failure; see the log)"
                ) from None
            process = self._process
            assert process is not None
        return await process.invoke(file, kind, input, ctx, target)

    async def stop(self, timeout: float) -> None:
        self._stopping = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._process is not None:
            await self._process.stop(timeout)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None


class RunnerPool:
    """The runners of a project, one per language that has steps."""

    def __init__(self, project_dir: Path, logger: Logger, shutdown_timeout: float) -> None:
        self.project_dir = project_dir
        self.logger = logger
        self.shutdown_timeout = shutdown_timeout
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
        started = []
        for name, language_files in files.items():
            if name in self.supervisors or name not in binaries:
                continue
            supervisor = RunnerSupervisor(
                LANGUAGES[name], binaries[name], self.project_dir, language_files, self.logger
            )
            started.append(supervisor.start())
            self.supervisors[name] = supervisor
        # New runners first, so work keeps flowing; then the old ones finish and stop.
        await asyncio.gather(*started)
        await asyncio.gather(*(s.stop(self.shutdown_timeout) for s in old))

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

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop(self.shutdown_timeout) for s in self.supervisors.values()))
        self.supervisors.clear()
