"""What work a runtime has left: the answer of `Runtime.pending()` and what `join()` awaits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pending:
    """Exact counts at one moment. Queue counts come from the store, so with a shared
    store (Redis) they include other processes' work."""

    handlers: int = 0  # event handlers running in this process
    leased: int = 0  # messages leased by a worker (here or elsewhere), not yet acknowledged
    ready: int = 0  # messages waiting in a queue, not leased, not delayed
    delayed: int = 0  # messages waiting for time: a retry backoff or `delaySeconds`
    cron: int = 0  # cron runs going, ticks due whose run has not started, timers not set
    leasing: int = 0  # workers that may still lease a message visible now
    # When the earliest delayed message becomes visible (epoch seconds, runtime clock).
    next_due_at: float | None = None
    detail: list[str] = field(default_factory=list, compare=False)

    @property
    def total(self) -> int:
        """Everything that is not done: 0 means the runtime is idle."""
        return self.handlers + self.leased + self.ready + self.delayed + self.cron

    @property
    def moving(self) -> int:
        """Work that goes on without time passing. When 0, what is left (`delayed`, or
        `ready` messages behind a delayed FIFO head) waits for the clock."""
        return self.handlers + self.leased + self.cron + self.leasing

    def describe(self) -> str:
        return "; ".join(self.detail) or "nothing"
