"""The event bus: fans each emitted event out into one message per subscribing step, and
keeps one worker per subscriber running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from motia.adapters.queue.base import DEFAULT_GROUP, Delivery, OutgoingMessage, QueueAdapter
from motia.clock import Clock, new_message_id
from motia.logs import Logger
from motia.randomness import random_hex
from motia.runtime.events import Event
from motia.runtime.flow_control import debounced, message_priority
from motia.runtime.queue_policy import QueuePolicy, policy_for
from motia.runtime.worker import RunDelivery, SubscriberWorker
from motia.steps.model import Step


class EventBus:
    def __init__(
        self,
        queue: QueueAdapter,
        run: RunDelivery,
        clock: Clock,
        logger: Logger,
        *,
        concurrency: int,
        lease_seconds: float,
        poll_interval: float,
        warn_unsubscribed: bool = False,
        on_settled: Callable[[], None] | None = None,
    ) -> None:
        self._queue = queue
        self._run = run
        self._clock = clock
        self._logger = logger
        self._default_concurrency = concurrency
        self._lease_seconds = lease_seconds
        self._poll_interval = poll_interval
        self._on_settled = on_settled
        self._subscribers: dict[str, list[tuple[Step, QueuePolicy]]] = {}
        self._workers: dict[str, SubscriberWorker] = {}
        # Workers replaced by a reload: they lease nothing new but finish what they run,
        # and shutdown still waits for them.
        self._retired: list[SubscriberWorker] = []
        # Called with every event fanned out, subscribed to or not (the test kit's watch()).
        self._listeners: list[Callable[[Event], None]] = []
        # In dev, an event nobody subscribes to is a likely typo: say so once per topic
        # (and once more after each reload while it is still true).
        self._warn_unsubscribed = warn_unsubscribed
        self._warned_topics: set[str] = set()
        self._handing_back: set[asyncio.Task[None]] = set()

    def topics(self) -> list[str]:
        return sorted(self._subscribers)

    def subscribers(self, topic: str) -> list[Step]:
        return [step for step, _ in self._subscribers.get(topic, ())]

    def policies(self) -> dict[str, QueuePolicy]:
        return {name: worker.policy for name, worker in self._workers.items()}

    async def apply(self, steps: Sequence[Step]) -> None:
        """Subscribe the event steps of a (re)loaded project; retire steps that are gone."""
        wanted = {
            s.name: (s, policy_for(s, self._default_concurrency))
            for s in steps
            if s.type == "event" and s.handler is not None
        }
        subscribers: dict[str, list[tuple[Step, QueuePolicy]]] = {}
        for step, policy in wanted.values():
            for topic in step.event.subscribes:
                subscribers.setdefault(topic, []).append((step, policy))
        self._subscribers = subscribers
        self._warned_topics.clear()
        for name, worker in list(self._workers.items()):
            new = wanted.get(name)
            if new is None or new[1] != worker.policy:
                del self._workers[name]
                await worker.stop_leasing()
                self._retired = [w for w in self._retired if w.busy] + [worker]
            else:
                worker.step = new[0]
        for name, (step, policy) in wanted.items():
            if name not in self._workers:
                self._workers[name] = SubscriberWorker(
                    step,
                    policy,
                    self._queue,
                    self._run,
                    self._clock,
                    self._logger.child(step.name, None, step.flows),
                    lease_seconds=self._lease_seconds,
                    poll_interval=self._poll_interval,
                    on_settled=self._on_settled,
                )

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Hear every event as it is fanned out (emitted by a successful run, or published);
        returns the function that removes the listener."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def fan_out(self, events: Sequence[Event]) -> list[OutgoingMessage]:
        """One message per subscriber of each event's topic; topics nobody subscribes to
        produce nothing."""
        messages: list[OutgoingMessage] = []
        now = self._clock.time()
        for event in events:
            # A scheduled emit waits until its time, then the subscriber's `delaySeconds`.
            wait = 0.0 if event.fire_at is None else max(event.fire_at - now, 0.0)
            for listener in self._listeners:
                listener(event)
            subscribed = self._subscribers.get(event.topic, ())
            if not subscribed and self._warn_unsubscribed:
                self._warn_once(event)
            for step, policy in subscribed:
                group = event.message_group_id
                if policy.fifo and group is None:
                    group = DEFAULT_GROUP
                event_id, fire_at, key, delay = event.id, event.fire_at, event.key, wait
                priority = 0 if policy.fifo else message_priority(step, event)
                if (debounce := debounced(step, event, now)) is not None:
                    event_id, fire_at, key = debounce
                    delay = fire_at - now
                messages.append(
                    OutgoingMessage(
                        id=new_message_id(),
                        event_id=event_id,
                        subscriber=step.name,
                        topic=event.topic,
                        data=event.data,
                        trace_id=event.trace_id,
                        flows=event.flows,
                        group_id=group if policy.fifo else None,
                        delay=policy.delay + delay,
                        fire_at=fire_at,
                        key=key,
                        priority=priority,
                    )
                )
        return messages

    def _warn_once(self, event: Event) -> None:
        if event.topic in self._warned_topics:
            return
        self._warned_topics.add(event.topic)
        self._logger.child(None, event.trace_id, event.flows).warn(
            f"no step subscribes to topic '{event.topic}': the event goes nowhere "
            "(check the spelling against the 'subscribes' of the step meant to get it; "
            "warned once per topic)",
            {"topic": event.topic},
        )

    def handled(self, delivery: Delivery) -> None:
        """A handler returned: its worker may lease the next message while the outcome is
        being written (on Redis, in the same round trip as the acknowledgement)."""
        worker = self._workers.get(delivery.subscriber)
        if worker is not None:
            worker.handled(delivery)

    def notify(self, messages: Sequence[OutgoingMessage]) -> None:
        for subscriber in {m.subscriber for m in messages}:
            worker = self._workers.get(subscriber)
            if worker is not None:
                worker.notify()

    async def publish(self, events: Sequence[Event]) -> int:
        """Make the events durable for every subscriber; returns the copies made."""
        messages = self.fan_out(events)
        if not messages:
            return 0
        takers = self._takers(messages) if self._queue.leases_on_publish else None
        if not takers:
            await self._queue.publish(messages)
            self.notify(messages)
            return len(messages)
        # Idle local workers run their copies as soon as they are stored: leased to them in
        # the same write, no wake-up and no lease of their own on the way.
        token = random_hex(8)
        lease_until = self._clock.time() + self._lease_seconds
        try:
            deliveries = await self._queue.publish_taking(messages, takers, token, lease_until)
        except BaseException as exc:
            for taker in takers.values():
                taker.unreserve()
            if isinstance(exc, asyncio.CancelledError):
                # The publisher is gone, but the write may have committed: hand the taken
                # messages back so a worker leases them now, not when the lease runs out.
                self._hand_back([m for m in messages if m.id in takers], token)
            raise
        for delivery in deliveries:
            takers.pop(delivery.id).take(delivery)
        for taker in takers.values():  # not stored after all (an id already queued)
            taker.unreserve()
        if len(deliveries) < len(messages):
            taken = {d.id for d in deliveries}
            self.notify([m for m in messages if m.id not in taken])
        return len(messages)

    def _hand_back(self, messages: list[OutgoingMessage], token: str) -> None:
        async def release() -> None:
            for message in messages:
                delivery = self._queue.taken_delivery(message, None, token, 0.0)
                with contextlib.suppress(Exception):  # never stored, or the store is down
                    await self._queue.release(delivery)
            self.notify(messages)

        task = asyncio.get_running_loop().create_task(release())
        self._handing_back.add(task)
        task.add_done_callback(self._handing_back.discard)

    def _takers(self, messages: Sequence[OutgoingMessage]) -> dict[str, SubscriberWorker]:
        """Message id -> the idle worker of this process that takes it as it is stored:
        unordered messages visible at once, one per free slot."""
        takers: dict[str, SubscriberWorker] = {}
        for message in messages:
            if message.group_id is not None or message.delay > 0 or message.fire_at is not None:
                continue
            worker = self._workers.get(message.subscriber)
            if worker is not None and worker.reserve():
                takers[message.id] = worker
        return takers

    def wake(self, subscriber: str) -> None:
        """Another process made messages of `subscriber` visible: its worker looks now."""
        worker = self._workers.get(subscriber)
        if worker is not None:
            worker.notify()

    def notify_all(self) -> None:
        for worker in self._workers.values():
            worker.notify()

    def in_flight(self) -> int:
        """Handlers running in this process."""
        return sum(w.busy for w in [*self._workers.values(), *self._retired])

    def leasing(self) -> int:
        """Workers that may still lease a message that is visible now."""
        return sum(not w.caught_up for w in self._workers.values())

    def subscriber_names(self) -> list[str]:
        return sorted(self._workers)

    async def stop_leasing(self) -> None:
        """Lease nothing more (shutdown has begun); running handlers carry on."""
        workers = [*self._workers.values(), *self._retired]
        await asyncio.gather(*(w.stop_leasing() for w in workers))

    async def stop(self, timeout: float) -> None:
        workers = [*self._workers.values(), *self._retired]
        self._workers, self._retired = {}, []
        await asyncio.gather(*(w.stop(timeout) for w in workers))
