"""Worker processes for steps with `"executor": "process"`: CPU-heavy Python handlers run
there, off the server's event loop and outside its GIL.

Each worker is a fresh interpreter (`python -m motia.runtime.process_worker`, exec'd like
multiprocessing's "spawn": the server, whose event loop runs, is never forked) that speaks
the runner protocol on a socket pair, one handler at a time. The server keeps at most
`executors.processes` of them, started on first use. A handler's `ctx` calls come back over
the socket and are served by the run's real context, so emits, state, streams and logs
behave exactly as for a handler on the server.

A run the server stops waiting for (its timeout passed, the server stops, the client went
away) cannot be interrupted inside Python: its worker is killed. A worker that dies
(a segfault, `os._exit`, `kill -9`) fails the run it was running; the next run starts a
new worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motia.errors import MotiaError
from motia.logs import Logger
from motia.runners.languages import RunnerLanguage, die_with_parent
from motia.runners.process import RemoteHandlerError, RunnerFailed, RunnerProcess
from motia.runners.remote import ContextTarget, HandlerContext
from motia.tasks import start_task, stop_task

# How long a new worker may take to start (an interpreter and the framework's imports).
START_TIMEOUT = 30.0
# How long a worker with old code may take to finish and exit before it is killed.
RETIRE_TIMEOUT = 5.0
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class WorkerStopped(MotiaError):
    """The worker process running a handler died; only that run failed."""


@dataclass(frozen=True)
class _PythonWorker(RunnerLanguage):
    def command(self, binary: str) -> list[str]:
        return [*die_with_parent(), binary, "-m", "motia.runtime.process_worker"]


def _worker_environment(binary: str) -> dict[str, str]:
    # The worker imports this very package, wherever it was imported from.
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": _PACKAGE_PARENT + (os.pathsep + path if path else "")}


PYTHON_WORKER = _PythonWorker(
    name="python-worker",
    label="Python worker",
    binary=sys.executable,
    binary_env="",  # always the interpreter that runs the server
    script=Path(__file__),
    install_hint="",
    environment=_worker_environment,
)


class ProcessPool:
    def __init__(self, project_dir: Path, size: int, logger: Logger) -> None:
        self.project_dir = project_dir
        self.size = size
        self.logger = logger.child("python-worker", None, [])
        self.stream_names: list[str] = []
        self._slots = asyncio.Semaphore(size)
        self._idle: list[RunnerProcess] = []
        self._all: set[RunnerProcess] = set()
        # Workers started before the last reload hold old code: they retire when free.
        self._generation = 0
        self._generation_of: dict[RunnerProcess, int] = {}
        self._warming: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._closed = False

    async def invoke(
        self, step: str, file: str, kind: str, input: Any, meta: dict[str, Any], target: Any
    ) -> Any:
        if self._closed:
            raise WorkerStopped(f"step '{step}' cannot run: the worker processes are stopped")
        async with self._slots:
            worker = await self._take()
            try:
                result = await worker.invoke(file, kind, input, meta, target)
            except RemoteHandlerError as exc:
                self._give_back(worker)
                if exc.stack:  # the handler's own frames, for the log and the trace
                    exc.add_note(f"In the worker process of step '{step}':\n{exc.stack}")
                raise
            except TypeError as exc:  # the input could not be sent: nothing reached the worker
                self._give_back(worker)
                raise TypeError(
                    f'step \'{step}\' has "executor": "process": its input must be JSON, and '
                    f"is not: {exc}"
                ) from None
            except RunnerFailed:
                self._forget(worker)
                self.warm()
                raise WorkerStopped(await self._death_of(worker, step)) from None
            except BaseException:
                # Cancelled: a timeout, the server stopping, a client gone. Python cannot stop
                # the handler inside the worker, so the worker goes.
                self._discard(worker)
                self.warm()
                raise
            self._give_back(worker)
            return result

    async def _take(self) -> RunnerProcess:
        while True:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                self._discard(worker)
            if self._warming is None:
                return await self._start()
            # A worker is being started for whoever needs one next: that is this run.
            await asyncio.shield(self._warming)

    async def _start(self) -> RunnerProcess:
        worker = RunnerProcess(PYTHON_WORKER, self.project_dir, self.logger, on_lost=self._lost)
        self._all.add(worker)
        self._generation_of[worker] = self._generation
        try:
            await worker.start(sys.executable, START_TIMEOUT)
        except BaseException:
            self._discard(worker)
            raise
        return worker

    def warm(self) -> None:
        """Start a worker in the background when none is idle, so the next run (after the
        server starts, a reload, a crash or a kill) finds one ready: an interpreter's start
        is not spent out of a handler's timeout."""
        if self._closed or self._idle or self._warming is not None or len(self._all) >= self.size:
            return
        self._warming = start_task(self._warm(), self.logger, "starting a Python worker")

    async def _warm(self) -> None:
        try:
            worker = await self._start()
        except Exception as exc:
            self.logger.warn(f"could not start a Python worker process: {exc}")
            return
        finally:
            self._warming = None
        self._give_back(worker)

    def _give_back(self, worker: RunnerProcess) -> None:
        stale = self._generation_of.get(worker) != self._generation
        if self._closed or stale or len(self._all) > self.size:
            self._retire(worker)
        elif worker.alive:
            self._idle.append(worker)
        else:
            self._discard(worker)

    def _discard(self, worker: RunnerProcess) -> None:
        worker.kill()
        self._forget(worker)

    def _forget(self, worker: RunnerProcess) -> None:
        self._all.discard(worker)
        self._generation_of.pop(worker, None)
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)

    def _lost(self, worker: RunnerProcess) -> None:
        self._forget(worker)

    def _retire(self, worker: RunnerProcess) -> None:
        self._forget(worker)
        task = start_task(worker.stop(RETIRE_TIMEOUT), self.logger, "stopping a Python worker")
        self._retiring.add(task)  # held: the loop keeps only weak references to tasks
        task.add_done_callback(self._retiring.discard)

    async def _death_of(self, worker: RunnerProcess, step: str) -> str:
        """Why a worker stopped, once its exit status is known."""
        self._forget(worker)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await asyncio.shield(worker.exited)
        status = worker.exited.result() if worker.exited.done() else None
        if status is None:
            how = "stopped"
        elif status < 0:
            how = f"was killed by signal {_signal_name(-status)}"
        else:
            how = f"exited with status {status}"
        return (
            f"the worker process running step '{step}' {how} before the handler returned; "
            "only this run failed, and the next run starts a new worker"
        )

    def reset(self) -> None:
        """The code changed: idle workers stop now, busy ones when their run ends."""
        self._generation += 1
        for worker in list(self._idle):
            self._retire(worker)

    async def stop(self, timeout: float) -> None:
        """Stop every worker: idle ones exit, those still running a handler are killed."""
        self._closed = True
        await stop_task(self._warming)
        idle, self._idle = self._idle, []
        busy = [worker for worker in self._all if worker not in idle]
        for worker in busy:
            worker.kill()
        await asyncio.gather(*(worker.stop(timeout) for worker in [*idle, *busy]))
        if self._retiring:  # idle workers with old code, exiting already
            await asyncio.wait(set(self._retiring), timeout=RETIRE_TIMEOUT)
        self._all.clear()
        self._generation_of.clear()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


class ProcessHandler:
    """`step.handler` of a Python step with `"executor": "process"`: to the runtime it is
    an async handler; the real one runs in a worker process."""

    __slots__ = ("file", "kind", "pool", "step")

    def __init__(self, pool: ProcessPool, file: Path, kind: str, step: str) -> None:
        self.pool = pool
        self.file = str(file)
        self.kind = kind
        self.step = step

    async def __call__(self, *args: Any) -> Any:
        ctx: HandlerContext
        if self.kind == "cron":
            (ctx,) = args
            input = None
        else:
            input, ctx = args
        meta: dict[str, Any] = {
            "traceId": ctx.trace_id,
            "flows": ctx.flows,
            "step": self.step,
            "streams": self.pool.stream_names,
        }
        if ctx.event_id is not None:
            meta["eventId"] = ctx.event_id
            meta["attempt"] = ctx.attempt
            meta["topic"] = getattr(ctx, "topic", None)
        return await self.pool.invoke(
            self.step, self.file, self.kind, input, meta, ContextTarget(ctx)
        )
