"""A worker per subscribing step: leases its messages, runs up to `concurrency` handlers at
once, renews the leases of running handlers, and on shutdown hands back what it cannot
finish."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from motia.adapters.queue.base import Delivery, QueueAdapter
from motia.clock import Clock
from motia.errors import StoreUnavailable
from motia.logs import Logger
from motia.runtime.queue_policy import QueuePolicy
from motia.runtime.wakeup import Wakeup
from motia.steps.model import Step
from motia.tasks import start_task, stop_task

# How long a cancelled handler may take to unwind at shutdown before it is left behind.
CANCEL_GRACE = 0.5
# A worker whose leases keep failing asks the store again at most this often.
STORE_BACKOFF_MAX = 5.0

RunDelivery = Callable[[Step, QueuePolicy, Delivery], Awaitable[None]]


class SubscriberWorker:
    def __init__(
        self,
        step: Step,
        policy: QueuePolicy,
        queue: QueueAdapter,
        run: RunDelivery,
        clock: Clock,
        logger: Logger,
        *,
        lease_seconds: float,
        poll_interval: float,
        on_settled: Callable[[], None] | None = None,
    ) -> None:
        self.step = step
        self.policy = policy
        self._queue = queue
        self._run = run
        self._clock = clock
        self._logger = logger
        self._lease_seconds = lease_seconds
        self._poll_interval = poll_interval
        self._wakeup = Wakeup()
        self._loop: asyncio.AbstractEventLoop | None = None  # the lease loop's, once it runs
        # Told when a handler finishes or the worker has leased all it can (the runtime's
        # join() counts on both to know the moment work is done).
        self._on_settled = on_settled
        # True while the worker waits after a lease that found nothing more to take.
        self._caught_up = False
        self._failures = 0  # leases that failed in a row (the store is unavailable)
        # (message id, lease token) -> (delivery, task, monotonic start); keyed by lease, not
        # message: a message redelivered while its lost first run still hangs has two entries.
        self._running: dict[tuple[str, str], tuple[Delivery, asyncio.Task[None], float]] = {}
        # Leases of handlers that returned and whose outcome is being written: they no longer
        # take a slot, so the next lease can travel with their acknowledgements.
        self._finishing: set[tuple[str, str]] = set()
        # Slots promised to messages being published right now, to be run without a lease
        # of our own (see `reserve`).
        self._reserved = 0
        self._leasing = True
        self._lease_task = start_task(
            self._lease_loop(),
            logger,
            f"leasing messages for step {step.name}",
            name=f"motia-worker:{step.name}",
        )
        self._heartbeat_task = start_task(
            self._heartbeat_loop(),
            logger,
            f"renewing the leases of step {step.name}",
            name=f"motia-heartbeat:{step.name}",
        )

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def busy(self) -> int:
        return len(self._running)

    @property
    def caught_up(self) -> bool:
        """Nothing this worker could lease right now is left in its queue: what remains
        waits for time to pass (a retry, `delaySeconds`) or for a running FIFO head."""
        return self._caught_up and not self._wakeup.is_set()

    def notify(self) -> None:
        """New messages may be visible: look now instead of at the next poll."""
        self._wakeup.set()

    def reserve(self) -> bool:
        """Promise the slot of an idle worker to a message this process is publishing, so
        it runs as soon as it is stored, leased to us in the same write
        (`QueueAdapter.publish_taking`): no wake-up, no lease query, no round trip of its
        own. Only when nothing runs and the last lease found nothing more waiting, so the
        message overtakes nothing; a busy worker leases in batches, which costs less per
        message than taking them one by one."""
        if self._running or self._reserved or not self._leasing or self.policy.fifo:
            return False
        if not self.caught_up:
            return False
        self._reserved = 1
        return True

    def unreserve(self) -> None:
        """The publish failed: the promised slot is free again."""
        self._reserved -= 1

    def take(self, delivery: Delivery) -> None:
        """Run a message that was leased to this worker as it was published."""
        self._reserved -= 1
        self._start(delivery)

    def handled(self, delivery: Delivery) -> None:
        """The handler of `delivery` returned: its slot is free for the next message."""
        lease = (delivery.id, delivery.lease_token)
        if lease in self._running:
            self._finishing.add(lease)
            if self._may_wait_for_more():
                self._wakeup.set()

    def _may_wait_for_more(self) -> bool:
        """Whether a run that ends well can let a message be leased. Not when the last
        lease took fewer than it could and nothing was published since: the queue held
        nothing more that was visible, and what becomes visible later wakes the worker by
        its own timer. A FIFO step's next message waits for its group's head to finish, so
        there every end counts."""
        return not self._caught_up or self.policy.fifo

    async def _lease_loop(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        me = asyncio.current_task(loop)
        while True:
            if me is not None and me.cancelling():
                # A cancellation (stop) that something awaited on the way swallowed: the
                # task still says it is being cancelled, so stop now instead of leasing on.
                raise asyncio.CancelledError
            # Clear before looking, so a notification that arrives meanwhile is not lost.
            self._wakeup.clear()
            free = self.policy.concurrency - self._active()
            if free > 0:
                asked = self._clock.time()
                try:
                    deliveries, next_at = await self._queue.lease_and_peek(
                        self.name, free, self._lease_seconds
                    )
                except Exception as exc:  # the store is unavailable: try again later
                    timeout = self._store_failed(exc)
                else:
                    if self._failures:
                        self._logger.info(f"leasing resumed after {self._failures} failure(s)")
                        self._failures = 0
                    for delivery in deliveries:
                        self._start(delivery)
                    if len(deliveries) == free:
                        continue  # there may be more: look again once a slot is free
                    # Nothing more can be leased now: wait for a publish, a finishing handler
                    # or the next message's visibility, without asking the store again.
                    timeout = self._idle_timeout(next_at, asked)
                    self._caught_up = True
                    self._settled()
            else:
                timeout = self._poll_interval  # a finishing handler wakes us first
            try:
                await self._wakeup.wait(timeout, loop)
            finally:
                self._caught_up = False

    def _settled(self) -> None:
        if self._on_settled is not None:
            self._on_settled()

    def _store_failed(self, exc: Exception) -> float:
        """Log a failed lease and say how long to wait: doubling from a tenth of a second
        up to STORE_BACKOFF_MAX, so a failing store is not asked in a loop."""
        self._failures += 1
        delay = min(0.1 * 2.0 ** (self._failures - 1), STORE_BACKOFF_MAX)
        reason = str(exc) if isinstance(exc, StoreUnavailable) else f"{type(exc).__name__}: {exc}"
        self._logger.error(f"leasing messages failed ({reason}); trying again in {delay:.2g} s")
        return delay

    def _idle_timeout(self, next_at: float | None, asked: float) -> float:
        """How long to wait after a lease that took all it could; `asked` is when it began."""
        now = self._clock.time()
        if next_at is None:
            return self._poll_interval  # nothing waits: a publish wakes us
        if next_at <= now:
            if next_at > asked:
                # It became visible while the lease was on its way (scheduled emits due
                # a millisecond apart): look again now rather than a poll interval late.
                return 0.0
            # Visible since before the lease, yet not leased: blocked behind a running FIFO
            # head. A finishing handler wakes us; the poll covers other processes.
            return self._poll_interval
        return min(next_at - now, self._poll_interval)

    def _active(self) -> int:
        """Running handlers that still count against `concurrency`: one past
        visibilityTimeout is considered lost, and its slot goes to the next attempt."""
        now = time.monotonic()
        limit = self.policy.visibility_timeout
        return self._reserved + sum(
            1
            for lease, (_, _, started) in self._running.items()
            if now - started < limit and lease not in self._finishing
        )

    def _start(self, delivery: Delivery) -> None:
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(self._handle(delivery))
        self._running[(delivery.id, delivery.lease_token)] = (delivery, task, time.monotonic())

    async def _handle(self, delivery: Delivery) -> None:
        try:
            await self._run(self.step, self.policy, delivery)
        except StoreUnavailable as exc:
            # The outcome could not be written: the lease (and its counted attempt) stays
            # until it expires, then the message runs again; nothing is lost.
            self._logger.error(
                f"the outcome of attempt {delivery.attempt} could not be stored ({exc}); the "
                f"message runs again when its lease expires in {self._lease_seconds:g} s",
                {"topic": delivery.topic, "eventId": delivery.event_id},
            )
        except Exception as exc:  # the executor reports handler errors; this is a bug guard
            self._logger.error(f"delivery failed inside Motia: {type(exc).__name__}: {exc}")
        finally:
            lease = (delivery.id, delivery.lease_token)
            self._running.pop(lease, None)
            if lease in self._finishing:  # it ended well (see `handled`)
                self._finishing.discard(lease)
                if self._may_wait_for_more():
                    self._wakeup.set()
            else:  # a retry, a dead letter, a lost lease: the queue changed, look again
                self._wakeup.set()
            self._settled()

    async def _heartbeat_loop(self) -> None:
        interval = self._lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            # A handler past visibilityTimeout is considered lost: its lease is no longer
            # renewed, so the message becomes visible again for another attempt.
            alive = [
                delivery
                for delivery, _, started in self._running.values()
                if now - started < self.policy.visibility_timeout
            ]
            if alive:
                try:
                    await self._queue.extend(alive, self._lease_seconds)
                except Exception as exc:
                    self._logger.error(f"renewing leases failed: {type(exc).__name__}: {exc}")

    async def stop_leasing(self) -> None:
        self._leasing = False  # nothing is taken on publish either
        await stop_task(self._lease_task)

    async def stop(self, timeout: float) -> None:
        """Stop leasing, give running handlers `timeout` seconds, then hand back the rest
        untouched so they run first thing next time."""
        await self.stop_leasing()
        running = [task for _, task, _ in self._running.values()]
        if running:
            await asyncio.wait(running, timeout=timeout)
        leftovers = list(self._running.values())
        for _, task, _ in leftovers:
            task.cancel()
        if leftovers:
            # A handler that catches the cancellation and carries on must not hold the
            # stop: its message is handed back all the same.
            _, stuck = await asyncio.wait([t for _, t, _ in leftovers], timeout=CANCEL_GRACE)
            if stuck:
                self._logger.error(
                    f"{len(stuck)} handler(s) kept running after being cancelled at "
                    "shutdown; their messages are handed back and run again"
                )
        for delivery, _, _ in leftovers:
            with contextlib.suppress(Exception):
                await self._queue.release(delivery)
        await stop_task(self._heartbeat_task)
