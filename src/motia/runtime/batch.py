"""`batch` of an event step: its handler gets a list of up to `size` event inputs in one
call, those that arrived within `timeout` seconds of the first.

The worker leases messages as usual (a batch step's worker takes at least `size` at
once); each leased message waits here until its batch is full or the window closes, then
one handler call runs them all. Every message of the batch is acknowledged when the call
returns (the emits travel with the first acknowledgement); when the call fails, every
message of the batch is retried (or dead-lettered) on its own attempt count. A message
whose input does not match the step's schema is dead-lettered on its own and left out."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from motia import jsoncodec
from motia.adapters.queue.base import Delivery, Failure
from motia.runtime.invocation import Invocation
from motia.runtime.queue_policy import QueuePolicy
from motia.steps.model import Step
from motia.steps.typed_bodies import parse as parse_model
from motia.tasks import start_task

if TYPE_CHECKING:
    from motia.runtime.executor import StepExecutor
    from motia.runtime.flow_control import RunDelivery


@dataclass
class _Batch:
    step: Step
    policy: QueuePolicy
    items: list[tuple[Delivery, asyncio.Future[None]]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class BatchCollector:
    def __init__(self, executor: StepExecutor) -> None:
        self._executor = executor
        self._open: dict[str, _Batch] = {}  # step name -> the batch being filled

    def wrap(self, run: RunDelivery) -> RunDelivery:
        """`run` for steps without `batch`; the batch path for those with it."""

        def batched(step: Step, policy: QueuePolicy, delivery: Delivery) -> Awaitable[None]:
            if step.event.batch is None:
                return run(step, policy, delivery)  # no coroutine of our own on the way
            return self._join(step, policy, delivery)

        return batched

    async def _join(self, step: Step, policy: QueuePolicy, delivery: Delivery) -> None:
        rule = step.event.batch
        assert rule is not None
        batch = self._open.get(step.name)
        if batch is None:
            batch = self._open[step.name] = _Batch(step, policy)
            loop = asyncio.get_running_loop()
            batch.timer = loop.call_later(rule.timeout, self._close, step.name, batch)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        batch.items.append((delivery, done))
        if len(batch.items) >= rule.size:
            self._close(step.name, batch)
        await asyncio.shield(done)

    def _close(self, name: str, batch: _Batch) -> None:
        if self._open.get(name) is batch:
            del self._open[name]
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        if batch.items:
            items, batch.items = batch.items, []
            start_task(
                self._run(batch.step, batch.policy, items),
                self._executor.logger,
                f"running a batch of step {name}",
                name=f"motia-batch:{name}",
            )

    async def _run(
        self, step: Step, policy: QueuePolicy, items: list[tuple[Delivery, asyncio.Future[None]]]
    ) -> None:
        try:
            await self._run_batch(step, policy, [d for d, _ in items])
        finally:
            for _, done in items:
                if not done.done():
                    done.set_result(None)

    async def _run_batch(self, step: Step, policy: QueuePolicy, deliveries: list[Delivery]) -> None:
        executor = self._executor
        assert executor.bus is not None and step.handler is not None
        first = deliveries[0]
        log = executor.logger.child(step.name, first.trace_id, step.flows)
        accepted: list[Delivery] = []
        inputs: list[Any] = []
        for delivery in deliveries:
            data = await self._valid_input(step, delivery, log)
            if data is not _INVALID:
                accepted.append(delivery)
                inputs.append(data)
        if not accepted:
            return
        first = accepted[0]
        run = executor.begin_span(
            step,
            first.trace_id,
            "event",
            f"batch of {len(accepted)} on topic {first.topic}",
            max(d.attempt for d in accepted),
            event_id=first.event_id,
        )
        invocation = Invocation()
        ctx = executor.context(
            step,
            first.trace_id,
            step.flows,
            invocation,
            event_id=first.event_id,
            attempt=first.attempt,
            topic=first.topic,
            span_id=run.span_id,
        )
        where = {"topic": first.topic, "batch": len(accepted)}
        try:
            await executor.dispatcher.call(
                step.handler, (inputs, ctx), policy.handler_timeout, step.name, first.trace_id
            )
        except Exception as exc:
            executor.hooks.run_failed(run, exc)
            await executor.settle(step, first.trace_id, invocation)
            failure = Failure(
                error=f"{type(exc).__name__}: {exc}", stack="".join(traceback.format_exception(exc))
            )
            status = await self._fail_all(policy, accepted, failure, log, where)
            executor.end_span(run, status, invocation, failure)
            return
        await executor.settle(step, first.trace_id, invocation)
        emits = executor.bus.fan_out(invocation.outbox)
        lost = 0
        for index, delivery in enumerate(accepted):
            executor.bus.handled(delivery)
            if not await executor.queue.complete(delivery, emits if index == 0 else []):
                lost += 1
        if lost:
            log.warn(
                f"{lost} message(s) of the batch finished after their lease was lost; they "
                "run again",
                where,
            )
        executor.bus.notify(emits)
        executor.end_span(run, "ok", invocation)

    async def _valid_input(self, step: Step, delivery: Delivery, log: Any) -> Any:
        """The input to hand over; `_INVALID` (after dead-lettering it) when it does not
        match the step's schema."""
        data = delivery.data
        if step.input_schema is None:
            return data
        if step.input_model is not None:
            data, problems = parse_model(step.input_model, data)
        else:
            problems = step.input_schema.validate(data)
        if not problems:
            return data
        errors = [p.as_dict() for p in problems]
        log.error(
            f"event on '{delivery.topic}' does not match the step's input schema; left out "
            "of the batch and moved to the dead-letter queue without retries",
            {"topic": delivery.topic, "eventId": delivery.event_id, "errors": errors},
        )
        failure = Failure(
            error="input does not match the schema: " + jsoncodec.dumps_str(errors),
            reason="invalid input",
        )
        await self._executor.queue.dead_letter(delivery, failure)
        return _INVALID

    async def _fail_all(
        self,
        policy: QueuePolicy,
        deliveries: list[Delivery],
        failure: Failure,
        log: Any,
        where: dict[str, Any],
    ) -> str:
        """Retry (or dead-letter) every message of a failed batch on its own attempts."""
        queue = self._executor.queue
        retried = dead = 0
        for delivery in deliveries:
            if delivery.attempt <= policy.max_retries:
                await queue.retry(delivery, policy.retry_delay(delivery.attempt), failure)
                retried += 1
            else:
                await queue.dead_letter(delivery, failure)
                dead += 1
        log.error(
            f"batch handler failed; {retried} message(s) retry, {dead} moved to the "
            "dead-letter queue",
            {**where, "error": failure.error, "stack": failure.stack},
        )
        return "retrying" if retried else "dead"


_INVALID: Any = object()
