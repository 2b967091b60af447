"""Runs one step for one trigger (an API request, an event, a cron tick): builds the
context, calls the handler, finishes forgotten context calls and commits the emits."""

from __future__ import annotations

import functools
import inspect
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from motia import jsoncodec
from motia.adapters.queue.base import Delivery, Failure, QueueAdapter
from motia.adapters.state.base import StateAdapter
from motia.adapters.state.pending import PendingStateWrites
from motia.clock import Clock
from motia.logs import Logger
from motia.runtime.context import FlowContext, Services
from motia.runtime.dispatch import Dispatcher, handler_exits
from motia.runtime.handler_tasks import handler_call
from motia.runtime.hooks import HookChain, Run, RunEnd
from motia.runtime.invocation import Invocation
from motia.runtime.queue_policy import QueuePolicy
from motia.runtime.streams import StreamService
from motia.steps.model import Step
from motia.steps.typed_bodies import parse as parse_model

if TYPE_CHECKING:
    from motia.runtime.bus import EventBus


# A run this long (seconds) marks its step as one that may compute without awaiting.
LONG_RUN = 0.001


class StepExecutor:
    def __init__(
        self,
        *,
        state: StateAdapter,
        queue: QueueAdapter,
        logger: Logger,
        clock: Clock,
        dispatcher: Dispatcher,
        streams: StreamService,
        hooks: HookChain | None = None,
        atomic_state: bool = True,
    ) -> None:
        self.state = state
        self.queue = queue
        self.logger = logger
        self.clock = clock
        self.dispatcher = dispatcher
        self.streams = streams
        self.services = Services(state, logger, clock, streams, queue=queue)
        # Where the queue and the state share a database, an event handler's state writes
        # commit with the completion of its message (see `adapters.state.pending`).
        self.state_with_completion = atomic_state and queue.holds_state_writes(state)
        self.bus: EventBus | None = None  # set by the runtime once the bus exists
        self.hooks = hooks or HookChain(logger)
        # Event steps whose last run took at least LONG_RUN: they start only once this
        # process's open write has been committed (see `_run_event`).
        self._long_running: set[str] = set()

    def context(
        self,
        step: Step,
        trace_id: str,
        flows: list[str],
        invocation: Invocation,
        *,
        event_id: str | None = None,
        attempt: int = 1,
        state: StateAdapter | None = None,
        topic: str | None = None,
        span_id: str | None = None,
    ) -> FlowContext:
        return FlowContext(
            self.services,
            step=step.name,
            emits=step.emits,
            trace_id=trace_id,
            flows=flows,
            invocation=invocation,
            event_id=event_id,
            attempt=attempt,
            state=state,
            topic=topic,
            span_id=span_id,
        )

    async def commit(self, invocation: Invocation) -> None:
        """Publish what a successful API or cron run emitted; durable once this returns."""
        if invocation.outbox and self.bus is not None:
            await self.bus.publish(invocation.outbox)

    async def settle(self, step: Step, trace_id: str, invocation: Invocation) -> None:
        """Finish calls the handler did not await; their errors are logged, not raised."""
        if not invocation.calls:
            return
        for error in await invocation.settle():
            self.logger.child(step.name, trace_id, step.flows).error(
                "a context call that was not awaited failed",
                {"error": f"{type(error).__name__}: {error}"},
            )

    async def run_api(
        self, step: Step, req: dict[str, Any], trace_id: str, span_id: str | None = None
    ) -> tuple[Any, Invocation]:
        """Run middleware and handler; the caller commits the emits once the response is
        known to be valid."""
        invocation = Invocation()
        ctx = self.context(step, trace_id, step.flows, invocation, span_id=span_id)
        try:
            result = await _call_chain(self.dispatcher, step, req, ctx)
        finally:
            await self.settle(step, trace_id, invocation)
        return result, invocation

    async def run_event(self, step: Step, policy: QueuePolicy, delivery: Delivery) -> None:
        """Run one leased message; it ends completed, retried or dead-lettered."""
        run = self.begin_span(
            step,
            delivery.trace_id,
            "event",
            f"topic {delivery.topic}",
            delivery.attempt,
            event_id=delivery.event_id,
        )
        outcome = await self._run_event(run, step, policy, delivery)
        self.end_span(run, outcome.status, outcome.invocation, outcome.failure)

    async def _run_event(
        self, run: Run, step: Step, policy: QueuePolicy, delivery: Delivery
    ) -> _Outcome:
        assert self.bus is not None
        if delivery.attempt > policy.max_retries + 1:
            log, where = self._run_log(step, delivery, run)
            # The previous attempt never reported back: its worker died or it ran past
            # visibilityTimeout, and that was the last attempt it was allowed.
            failure = Failure(
                error="the last attempt did not finish (the worker stopped, or the handler "
                f"ran past visibilityTimeout of {policy.visibility_timeout:g} s)",
                reason="attempts exhausted",
            )
            log.error("event moved to the dead-letter queue: " + failure.error, where)
            await self.queue.dead_letter(delivery, failure)
            self.hooks.run_dead_lettered(run, failure)
            return _Outcome("dead", failure=failure)
        data = delivery.data
        if step.input_schema is not None:
            if step.input_model is not None:  # the handler asked for an instance
                data, problems = parse_model(step.input_model, data)
            else:
                problems = step.input_schema.validate(data)
            if problems:
                log, where = self._run_log(step, delivery, run)
                errors = [p.as_dict() for p in problems]
                if log.redactor is not None:  # messages quote values: not those of secrets
                    errors = log.redactor.field_errors(errors)
                log.error(
                    f"event on '{delivery.topic}' does not match the step's input schema; "
                    "moved to the dead-letter queue without retries",
                    {**where, "errors": errors},
                )
                failure = Failure(
                    error="input does not match the schema: " + jsoncodec.dumps_str(errors),
                    reason="invalid input",
                )
                await self.queue.dead_letter(delivery, failure)
                self.hooks.run_dead_lettered(run, failure)
                return _Outcome("dead", failure=failure)
        invocation = Invocation()
        pending = PendingStateWrites(self.state) if self.state_with_completion else None
        ctx = self.context(
            step,
            delivery.trace_id,
            step.flows,
            invocation,
            event_id=delivery.event_id,
            attempt=delivery.attempt,
            state=pending,
            topic=delivery.topic,
            span_id=run.span_id,
        )
        assert step.handler is not None
        if step.name in self._long_running:
            # A long handler that computes without awaiting would hold the store's write
            # lock (SQLite: every process's writes) until its loop turn ends: commit first,
            # and again after waking, since another handler may have begun a write. Short
            # handlers skip this so their writes keep sharing one commit.
            while (write := self.queue.open_write()) is not None:
                await write
        started = time.perf_counter()
        try:
            await self.dispatcher.call(
                step.handler, (data, ctx), policy.handler_timeout, step.name, delivery.trace_id
            )
        except Exception as exc:
            self.hooks.run_failed(run, exc)
            await self.settle(step, delivery.trace_id, invocation)
            log, where = self._run_log(step, delivery, run)
            return await self._failed(run, policy, delivery, exc, log, where, invocation)
        if time.perf_counter() - started >= LONG_RUN:
            self._long_running.add(step.name)
        else:
            self._long_running.discard(step.name)
        await self.settle(step, delivery.trace_id, invocation)
        emits = self.bus.fan_out(invocation.outbox)
        self.bus.handled(delivery)
        try:
            if pending is not None and pending.writes:
                completed = await self.queue.complete_with_state(delivery, emits, pending.writes)
            else:
                completed = await self.queue.complete(delivery, emits)
        except TypeError as exc:  # an emitted payload cannot be stored as JSON
            log, where = self._run_log(step, delivery, run)
            return await self._failed(run, policy, delivery, exc, log, where, invocation)
        if not completed:
            log, where = self._run_log(step, delivery, run)
            log.warn(
                "the handler finished after its lease was lost; its emits are dropped and "
                "the message runs again",
                where,
            )
            return _Outcome("lost", invocation)
        self.bus.notify(emits)
        return _Outcome("ok", invocation)

    def _run_log(self, step: Step, delivery: Delivery, run: Run) -> tuple[Logger, dict[str, Any]]:
        """The run's logger and the fields that place a delivery, for the paths that log
        (made there: a run that succeeds needs neither)."""
        log = self.logger.child(step.name, delivery.trace_id, step.flows, {"spanId": run.span_id})
        where = {"topic": delivery.topic, "eventId": delivery.event_id, "attempt": delivery.attempt}
        return log, where

    async def _failed(
        self,
        run: Run,
        policy: QueuePolicy,
        delivery: Delivery,
        exc: Exception,
        log: Logger,
        where: dict[str, Any],
        invocation: Invocation,
    ) -> _Outcome:
        failure = Failure(
            error=f"{type(exc).__name__}: {exc}",
            stack="".join(traceback.format_exception(exc)),
        )
        fields = {**where, "error": failure.error, "stack": failure.stack}
        if delivery.attempt <= policy.max_retries:
            delay = policy.retry_delay(delivery.attempt)
            log.error(f"handler failed; retrying in {delay:.3g} s", fields)
            await self.queue.retry(delivery, delay, failure)
            self.hooks.run_retrying(run, delay, failure)
            return _Outcome("retrying", invocation, failure)
        log.error(
            f"handler failed after {delivery.attempt} attempt(s); moved to the dead-letter queue",
            fields,
        )
        await self.queue.dead_letter(delivery, failure)
        self.hooks.run_dead_lettered(run, failure)
        return _Outcome("dead", invocation, failure)

    # --- run hooks: what the recorder, the test kit and metrics hear of each run -----

    def begin_span(
        self,
        step: Step,
        trace_id: str,
        kind: str,
        trigger: str,
        attempt: int = 1,
        *,
        event_id: str | None = None,
    ) -> Run:
        run = Run(step, kind, trace_id, trigger, self.clock.time(), attempt, event_id)
        self.hooks.run_started(run)
        return run

    def end_span(
        self,
        run: Run,
        status: str,
        invocation: Invocation | None,
        failure: Failure | None = None,
        http_status: int | None = None,
        field_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        if status == "ok" and invocation is not None and invocation.skipped is not None:
            status = "skipped"  # a trigger's condition said no: not an error, not a run
        self.hooks.run_ended(
            run,
            RunEnd(
                status,
                self.clock.time(),
                emits=[e.topic for e in invocation.outbox] if invocation else [],
                failure=failure,
                state_ops=invocation.state_ops if invocation else 0,
                stream_ops=invocation.stream_ops if invocation else 0,
                http_status=http_status,
                field_errors=field_errors,
            ),
        )

    def record_rejection(
        self,
        step: Step,
        trace_id: str,
        trigger: str,
        http_status: int,
        error: str,
        field_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        """A request refused before its handler ran is a short run of its own, so the
        trace id in the 4xx answer leads to the step and the reason."""
        run = self.begin_span(step, trace_id, "api", trigger)
        self.end_span(run, "rejected", None, Failure(error), http_status, field_errors)


@dataclass
class _Outcome:
    status: str  # ok | retrying | dead | lost
    invocation: Invocation | None = None
    failure: Failure | None = None


def failure_of(exc: BaseException) -> Failure:
    return Failure(
        error=f"{type(exc).__name__}: {exc}", stack="".join(traceback.format_exception(exc))
    )


async def _call_chain(
    dispatcher: Dispatcher, step: Step, req: dict[str, Any], ctx: FlowContext
) -> Any:
    """Middlewares compose left to right; each may short-circuit by not calling `next`."""
    handler = step.handler
    assert handler is not None
    if not step.api.middleware:
        return await dispatcher.call(handler, (req, ctx), step=step.name, trace_id=ctx.trace_id)
    with handler_call(step.name, ctx.trace_id):  # tasks that middleware starts are marked too
        return await _middleware_at(0, dispatcher, step, req, ctx)


async def _middleware_at(
    index: int, dispatcher: Dispatcher, step: Step, req: dict[str, Any], ctx: FlowContext
) -> Any:
    # A partial rather than a closure: no reference cycle for the garbage collector.
    middleware = step.api.middleware
    if index == len(middleware):
        assert step.handler is not None
        return await dispatcher.call(
            step.handler, (req, ctx), step=step.name, trace_id=ctx.trace_id
        )
    next_fn = functools.partial(_middleware_at, index + 1, dispatcher, step, req, ctx)
    with handler_exits():  # a middleware calling sys.exit() fails this request only
        result = middleware[index](req, ctx, next_fn)
        if inspect.isawaitable(result):
            result = await result
    return result
