"""The delivery rules of one subscriber, resolved once from its `infrastructure` config."""

from __future__ import annotations

import random
from dataclasses import dataclass

from motia.steps.config import Backoff
from motia.steps.model import Step

DEFAULT_MAX_RETRIES = 3
DEFAULT_VISIBILITY_TIMEOUT = 900.0
DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True)
class QueuePolicy:
    fifo: bool
    max_retries: int  # retries after the first attempt: at most max_retries + 1 runs
    visibility_timeout: float
    delay: float
    concurrency: int
    backoff: Backoff
    handler_timeout: float | None

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        backoff = self.backoff
        if backoff.type == "fixed":
            delay = backoff.delay
        else:
            delay = backoff.delay * 2 ** min(attempt - 1, 32)
        delay = min(delay, backoff.max_delay)
        if backoff.jitter:
            # "Equal jitter": never less than half the delay, spread over the other half,
            # so many failing messages do not all come back at the same instant.
            delay = delay / 2 + random.uniform(0, delay / 2)
        return delay


def policy_for(step: Step, default_concurrency: int) -> QueuePolicy:
    infrastructure = step.event.infrastructure
    queue = infrastructure.queue if infrastructure else None
    handler = infrastructure.handler if infrastructure else None
    return QueuePolicy(
        fifo=queue is not None and queue.type == "fifo",
        max_retries=(
            queue.max_retries
            if queue is not None and queue.max_retries is not None
            else DEFAULT_MAX_RETRIES
        ),
        visibility_timeout=(
            queue.visibility_timeout
            if queue is not None and queue.visibility_timeout
            # By default a handler may always run out its own timeout, with a margin.
            else max(DEFAULT_VISIBILITY_TIMEOUT, (handler.timeout or 0) + 30 if handler else 0)
        ),
        delay=queue.delay_seconds if queue is not None and queue.delay_seconds else 0.0,
        concurrency=max(
            queue.concurrency if queue is not None and queue.concurrency else default_concurrency,
            # A batch step takes a whole batch at once.
            step.event.batch.size if step.event.batch is not None else 1,
        ),
        backoff=queue.backoff if queue is not None and queue.backoff else DEFAULT_BACKOFF,
        handler_timeout=handler.timeout if handler is not None else None,
    )
