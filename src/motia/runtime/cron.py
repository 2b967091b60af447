"""The cron scheduler: one timer per cron step, 5-field or 6-field (leading seconds)
expressions, in a configurable time zone. A tick that finds the previous run of the same
job still going is skipped, so a slow job never piles up behind itself."""

from __future__ import annotations

import asyncio
import zoneinfo
from collections.abc import Callable, Sequence
from datetime import datetime

from croniter import croniter

from motia.adapters.locks.base import CronLocks, LocalCronLocks
from motia.clock import Clock, new_trace_id
from motia.runtime.executor import StepExecutor, failure_of
from motia.runtime.invocation import Invocation
from motia.steps.model import Step
from motia.tasks import start_task, stop_task

# Long enough that no process can still be about to run a tick when its claim is forgotten.
TICK_CLAIM_TTL = 3600.0


def next_fire_time(expression: str, after: datetime, timezone: str) -> datetime:
    local = after.astimezone(zoneinfo.ZoneInfo(timezone))
    with_seconds = len(expression.split()) == 6
    result: datetime = croniter(expression, local, second_at_beginning=with_seconds).get_next(
        datetime
    )
    return result


class CronScheduler:
    def __init__(
        self,
        executor: StepExecutor,
        clock: Clock,
        timezone: str,
        locks: CronLocks | None = None,
        *,
        on_settled: Callable[[], None] | None = None,
    ) -> None:
        self._executor = executor
        self._locks = locks or LocalCronLocks()
        self._clock = clock
        self._timezone = timezone
        self._jobs: dict[str, tuple[Step, asyncio.Task[None]]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._firing = 0  # ticks whose timer ended and whose run has not started yet
        self._unarmed: set[str] = set()  # jobs whose first timer is not set yet
        self._on_settled = on_settled  # told when a tick's run ends (the runtime's join)
        self.last_run: dict[str, datetime] = {}
        self.skipped: dict[str, int] = {}  # ticks this process skipped, by step (metrics)

    def apply(self, steps: Sequence[Step]) -> None:
        wanted = {s.name: s for s in steps if s.type == "cron" and s.handler is not None}
        for name, (step, task) in list(self._jobs.items()):
            new = wanted.get(name)
            if new is None or new.cron.cron != step.cron.cron:
                task.cancel()
                del self._jobs[name]
                self._unarmed.discard(name)
            else:
                self._jobs[name] = (new, task)
        for name, step in wanted.items():
            if name not in self._jobs:
                task = start_task(
                    self._schedule(name),
                    self._executor.logger,
                    f"the schedule of cron step {name}",
                    name=f"motia-cron:{name}",
                )
                self._jobs[name] = (step, task)
                self._unarmed.add(name)

    async def _schedule(self, name: str) -> None:
        busy: asyncio.Task[None] | None = None
        last_fire: datetime | None = None
        while True:
            step = self._jobs[name][0]
            now = self._clock.now()
            # A timer may wake a hair early; counting from the last tick keeps it from
            # firing the same tick twice.
            after = now if last_fire is None or now > last_fire else last_fire
            fire_at = last_fire = next_fire_time(step.cron.cron, after, self._timezone)
            if name in self._unarmed:
                self._unarmed.discard(name)
                if self._on_settled is not None:
                    self._on_settled()
            await self._clock.sleep((fire_at - now).total_seconds())
            # From the timer's end until the run starts (or the tick is skipped), the tick
            # counts as running: join() must not see a gap between the two.
            self._firing += 1
            try:
                busy = await self._fire(name, fire_at, busy)
            finally:
                self._firing -= 1
                if self._on_settled is not None:
                    self._on_settled()

    async def _fire(
        self, name: str, fire_at: datetime, busy: asyncio.Task[None] | None
    ) -> asyncio.Task[None] | None:
        """Run the tick due at `fire_at` unless it is skipped; returns the job's run."""
        step = self._jobs[name][0]
        if busy is not None and not busy.done():
            self._executor.logger.child(step.name, None, step.flows).warn(
                "cron tick skipped: the previous run is still going"
            )
            self.skipped[step.name] = self.skipped.get(step.name, 0) + 1
            return busy
        # Every process schedules every job; the one that claims the tick runs it.
        try:
            claimed = await self._locks.claim_tick(name, fire_at.timestamp(), TICK_CLAIM_TTL)
        except Exception as exc:
            self._executor.logger.child(step.name, None, step.flows).error(
                f"cron tick skipped: could not claim it: {type(exc).__name__}: {exc}"
            )
            self.skipped[step.name] = self.skipped.get(step.name, 0) + 1
            return busy
        if not claimed:
            return busy
        self.last_run[name] = fire_at
        run = asyncio.get_running_loop().create_task(self._tick(step))
        self._running.add(run)
        run.add_done_callback(self._tick_done)
        return run

    @property
    def running(self) -> int:
        """Runs started by ticks that have not finished yet."""
        return len(self._running)

    @property
    def pending(self) -> int:
        """Work the scheduler has not finished: runs going, ticks due whose run has not
        started, and jobs whose timer is not set yet (it may be due at once)."""
        return len(self._running) + self._firing + len(self._unarmed)

    def _tick_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Handler errors are logged by the run; this is one of Motia's own.
            self._executor.logger.error(
                f"a cron run failed inside Motia: {failure_of(error).error}",
                {"stack": failure_of(error).stack},
            )
        if self._on_settled is not None:
            self._on_settled()

    async def _tick(self, step: Step) -> None:
        await self.run_now(step)

    async def run_now(self, step: Step) -> str:
        """Run a cron step once, as a tick would; returns the run's trace id."""
        trace_id = new_trace_id()
        self.last_run[step.name] = self._clock.now()  # ticks and "run now" alike
        executor = self._executor
        invocation = Invocation()
        run = executor.begin_span(step, trace_id, "cron", f"cron {step.cron.cron}")
        ctx = executor.context(step, trace_id, step.flows, invocation, span_id=run.span_id)
        assert step.handler is not None
        returned = False
        try:
            await executor.dispatcher.call(
                step.handler, (ctx,), step.cron.timeout, step=step.name, trace_id=trace_id
            )
            returned = True
            await executor.settle(step, trace_id, invocation)
            await executor.commit(invocation)
        except Exception as exc:
            if not returned:
                executor.hooks.run_failed(run, exc)
            await executor.settle(step, trace_id, invocation)
            failure = failure_of(exc)
            ctx.logger.error(
                "cron handler failed", {"error": failure.error, "stack": failure.stack}
            )
            executor.end_span(run, "failed", invocation, failure)
            return trace_id
        executor.end_span(run, "ok", invocation)
        return trace_id

    async def stop_scheduling(self) -> None:
        """Fire no more ticks (shutdown has begun); running jobs carry on."""
        for _, task in self._jobs.values():
            task.cancel()
        for _, task in self._jobs.values():
            await stop_task(task)
        self._jobs.clear()
        self._unarmed.clear()

    async def stop(self, timeout: float) -> None:
        await self.stop_scheduling()
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=timeout)
            for task in pending:
                task.cancel()
