"""Runs one step for one trigger (an API request, an event, a cron tick): builds the
context, calls the handler, finishes forgotten context calls and commits the emits."""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from motia.adapters.queue.base import QueueAdapter, QueueMessage
from motia.adapters.state.base import StateAdapter
from motia.clock import Clock
from motia.logs import Logger
from motia.runtime.context import FlowContext, Services, Streams
from motia.runtime.dispatch import Dispatcher
from motia.runtime.events import Event
from motia.runtime.invocation import Invocation
from motia.steps.model import Step

Publish = Callable[[Sequence[Event]], Awaitable[int]]

DEFAULT_MAX_RETRIES = 3
RETRY_BASE_DELAY = 1.0
RETRY_MAX_DELAY = 30.0


class StepExecutor:
    def __init__(
        self,
        *,
        state: StateAdapter,
        queue: QueueAdapter,
        logger: Logger,
        clock: Clock,
        dispatcher: Dispatcher,
        streams: Streams,
    ) -> None:
        self.state = state
        self.queue = queue
        self.logger = logger
        self.clock = clock
        self.dispatcher = dispatcher
        self.streams = streams
        self.services = Services(state, logger, clock, streams)
        self.publish: Publish | None = None

    def context(
        self,
        step: Step,
        trace_id: str,
        flows: list[str],
        invocation: Invocation,
        *,
        event_id: str | None = None,
        attempt: int = 1,
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
        )

    async def commit(self, invocation: Invocation) -> None:
        """Publish what a successful run emitted."""
        if invocation.outbox and self.publish is not None:
            await self.publish(invocation.outbox)

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
        self, step: Step, req: dict[str, Any], trace_id: str
    ) -> tuple[Any, Invocation]:
        """Run middleware and handler; the caller commits the emits once the response is
        known to be valid."""
        invocation = Invocation()
        ctx = self.context(step, trace_id, step.flows, invocation)
        try:
            result = await _call_chain(self.dispatcher, step, req, ctx)
        finally:
            await self.settle(step, trace_id, invocation)
        return result, invocation

    async def run_event(self, step: Step, message: QueueMessage) -> None:
        message.attempt += 1
        log = self.logger.child(step.name, message.trace_id, step.flows)
        if step.input_schema is not None:
            problems = step.input_schema.validate(message.data)
            if problems:
                log.error(
                    f"event on '{message.topic}' does not match the step's input schema; "
                    "it is not retried",
                    {"errors": [p.as_dict() for p in problems], "eventId": message.id},
                )
                await self.queue.ack(step.name, message)
                return
        invocation = Invocation()
        ctx = self.context(
            step,
            message.trace_id,
            step.flows,
            invocation,
            event_id=message.id,
            attempt=message.attempt,
        )
        assert step.handler is not None
        try:
            await self.dispatcher.call(step.handler, (message.data, ctx), _timeout(step))
        except Exception as exc:
            await self.settle(step, message.trace_id, invocation)
            await self._failed(step, message, exc, log)
            return
        await self.settle(step, message.trace_id, invocation)
        await self.commit(invocation)
        await self.queue.ack(step.name, message)

    async def _failed(self, step: Step, message: QueueMessage, exc: Exception, log: Logger) -> None:
        queue = step.event.infrastructure.queue if step.event.infrastructure else None
        max_retries = (
            queue.max_retries
            if queue is not None and queue.max_retries is not None
            else DEFAULT_MAX_RETRIES
        )
        fields: dict[str, Any] = {
            "error": f"{type(exc).__name__}: {exc}",
            "stack": "".join(traceback.format_exception(exc)),
            "topic": message.topic,
            "eventId": message.id,
            "attempt": message.attempt,
        }
        if message.attempt <= max_retries:
            delay = min(RETRY_BASE_DELAY * 2 ** (message.attempt - 1), RETRY_MAX_DELAY)
            log.error(f"handler failed; retrying in {delay:g} s", fields)
            await self.queue.nack(step.name, message, delay)
        else:
            log.error(f"handler failed after {message.attempt} attempt(s); giving up", fields)
            await self.queue.ack(step.name, message)


def _timeout(step: Step) -> float | None:
    infrastructure = step.event.infrastructure if step.type == "event" else None
    if infrastructure is not None and infrastructure.handler is not None:
        return infrastructure.handler.timeout
    return None


async def _call_chain(
    dispatcher: Dispatcher, step: Step, req: dict[str, Any], ctx: FlowContext
) -> Any:
    """Middlewares compose left to right; each may short-circuit by not calling `next`."""
    handler = step.handler
    assert handler is not None
    if not step.api.middleware:
        return await dispatcher.call(handler, (req, ctx))
    return await _middleware_at(0, dispatcher, step, req, ctx)


async def _middleware_at(
    index: int, dispatcher: Dispatcher, step: Step, req: dict[str, Any], ctx: FlowContext
) -> Any:
    # A partial rather than a closure: no reference cycle for the garbage collector.
    middleware = step.api.middleware
    if index == len(middleware):
        assert step.handler is not None
        return await dispatcher.call(step.handler, (req, ctx))
    next_fn = functools.partial(_middleware_at, index + 1, dispatcher, step, req, ctx)
    result = middleware[index](req, ctx, next_fn)
    if inspect.isawaitable(result):
        result = await result
    return result
