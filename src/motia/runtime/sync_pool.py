"""The threads that run plain `def` handlers: a bounded pool shared fairly between steps.

Two promises a thread pool from the standard library cannot keep:
- A handler blocked forever (a `time.sleep(10**6)`, a socket without a timeout) must not
  keep the process alive once the server has stopped: the threads are daemon threads, and
  nothing joins them at exit.
- One step whose handlers hang must not starve every other sync handler: a step holds at
  most `per_step` threads at once. The default is half the pool, so a single misbehaving
  step leaves the other half to everyone else while a project with one busy sync step still
  gets half the threads; when the cap or the whole pool is reached, a warning names the
  steps holding the threads, so a hang is visible long before anyone wonders why.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from motia.errors import HandlerExited
from motia.logs import Logger

# A step at its cap, or a full pool, is reported at most this often.
WARN_EVERY = 60.0


def default_per_step(threads: int) -> int:
    return max(1, (threads + 1) // 2)


@dataclass(eq=False)
class _Work:
    future: concurrent.futures.Future[Any]
    call: Callable[[], Any]
    step: str
    loop: asyncio.AbstractEventLoop


class SyncPool:
    def __init__(self, threads: int, per_step: int | None, logger: Logger | None) -> None:
        self.threads = threads
        self.per_step = min(threads, per_step or default_per_step(threads))
        self._logger = logger
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._idle = 0  # threads waiting for work that no submitted work has claimed yet
        self._busy: dict[int, tuple[str, float]] = {}  # thread id -> (step, started)
        # Owned by the event loop's thread: threads held and runs waiting, per step.
        self._held: dict[str, int] = {}
        self._waiting: dict[str, collections.deque[asyncio.Future[None]]] = {}
        self._warned: dict[str, float] = {}
        self._closed = False

    async def run(self, step: str, call: Callable[[], Any]) -> Any:
        """Run `call` in a pool thread on behalf of `step`; cancelling the caller does not
        stop the thread (Python cannot), it only stops waiting for it."""
        await self._admit(step)
        loop = asyncio.get_running_loop()
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._submit(_Work(future, call, step, loop))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # Cancel it here rather than leave it to wrap_future's callback, which runs a
            # loop turn later: a run that never started gives its share back now, once.
            if future.cancel():
                self._release(step)
            raise

    # --- the per-step share (event loop thread) ---------------------------------------

    async def _admit(self, step: str) -> None:
        held = self._held.get(step, 0)
        if held < self.per_step and not self._waiting.get(step):
            self._held[step] = held + 1
            return
        self._warn_step_full(step)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._waiting.setdefault(step, collections.deque())
        line.append(waiter)
        try:
            await waiter  # a finishing run of the same step hands its share over
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(step)  # handed over just as we gave up: pass it on
            else:
                with contextlib.suppress(ValueError):
                    line.remove(waiter)
            raise
        finally:
            if not line:
                self._waiting.pop(step, None)

    def _release(self, step: str) -> None:
        line = self._waiting.get(step)
        while line:
            waiter = line.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        held = self._held.get(step, 0) - 1
        if held > 0:
            self._held[step] = held
        else:
            self._held.pop(step, None)

    def _warn_step_full(self, step: str) -> None:
        if self._should_warn(step):
            self._warn(
                f"step '{step}' has all {self.per_step} of its sync handler threads busy "
                f"(the longest for {self._longest(step):.0f} s); its next runs wait for one. "
                "A handler that blocks (a call without a timeout) holds its thread until it "
                "returns; raise syncHandlerThreadsPerStep if the step needs more"
            )

    # --- threads ----------------------------------------------------------------------

    def _submit(self, work: _Work) -> None:
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
                spawn = exhausted = False
            else:
                spawn = self._started < self.threads
                exhausted = not spawn
                if spawn:
                    self._started += 1
        self._queue.put(work)
        if spawn:
            threading.Thread(
                target=self._work, name=f"motia-step-{self._started}", daemon=True
            ).start()
        elif exhausted and self._should_warn(""):
            self._warn_pool_full()

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            if work.future.set_running_or_notify_cancel():
                self._run(work)
            work = None  # the result may be large: do not keep it while idle
            with self._lock:
                self._idle += 1

    def _run(self, work: _Work) -> None:
        me = threading.get_ident()
        with self._lock:
            self._busy[me] = (work.step, time.monotonic())
        error: BaseException | None = None
        try:
            result = work.call()
        except Exception as exc:
            error = exc
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: this run's failure
            error = HandlerExited(exc)
            error.__cause__ = exc
        # No longer busy before the caller hears the outcome, so what it sees is current.
        with self._lock:
            del self._busy[me]
        if error is None:
            work.future.set_result(result)
        else:
            work.future.set_exception(error)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            work.loop.call_soon_threadsafe(self._release, work.step)

    # --- reporting --------------------------------------------------------------------

    def busy_steps(self) -> dict[str, int]:
        """Threads running a handler now, by step."""
        with self._lock:
            counts = collections.Counter(step for step, _ in self._busy.values())
        return dict(counts)

    def _longest(self, step: str | None = None) -> float:
        now = time.monotonic()
        with self._lock:
            starts = [t for s, t in self._busy.values() if step is None or s == step]
        return now - min(starts) if starts else 0.0

    def _warn_pool_full(self) -> None:
        holders = ", ".join(
            f"'{step}' {count}"
            for step, count in sorted(self.busy_steps().items(), key=lambda item: -item[1])
        )
        self._warn(
            f"all {self.threads} sync handler threads are busy ({holders}; the longest for "
            f"{self._longest():.0f} s); sync handlers wait for a free thread. Raise "
            "syncHandlerThreads, or fix the handlers that block"
        )

    def _should_warn(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._warned.get(key, -WARN_EVERY) < WARN_EVERY:
            return False
        self._warned[key] = now
        return True

    def _warn(self, message: str) -> None:
        if self._logger is not None:
            self._logger.warn(message)

    def close(self) -> None:
        """Stop the idle threads; a thread still running a handler is abandoned (it is a
        daemon thread: it cannot keep the process alive)."""
        if self._closed:
            return
        self._closed = True
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work.future.cancel()
        for _ in range(self._started):
            self._queue.put(None)
