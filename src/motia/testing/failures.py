"""Flows that failed for good, and how the tester re-raises them.

The queue keeps only the text of an error; tests want the exception itself. The tracker
hears every handler exception through the runtime's run hooks and pairs it with the dead
letter it led to (or with the cron run it ended)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, NoReturn

from motia.adapters.queue.base import DeadLetter
from motia.runtime.hooks import Run, RunHooks


@dataclass(frozen=True)
class HandlerFailure:
    """A run that failed for good: an event moved to the dead-letter queue, or a cron run
    that raised. `exception` is the object the handler raised, when there was one."""

    step: str
    kind: str  # "event" | "cron"
    trace_id: str
    error: str
    exception: BaseException | None = None
    topic: str | None = None
    attempts: int = 1
    data: Any = None
    reason: str = "handler failed"

    def describe(self) -> str:
        where = f"step '{self.step}'"
        if self.topic is not None:
            where += f" on topic '{self.topic}'"
        what = (
            f"after {self.attempts} attempt(s), moved to the dead-letter queue"
            if self.kind == "event"
            else "cron run failed"
        )
        return f"{where} ({what}; trace {self.trace_id}): {self.error}"


class FlowFailed(AssertionError):
    """A flow ended in the dead-letter queue without a Python exception to re-raise (its
    input did not match the schema, or its attempts ran out)."""

    def __init__(self, failure: HandlerFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


@dataclass(frozen=True)
class _Raised:
    seq: int
    run: Run
    error: BaseException


class FailureTracker(RunHooks):
    """Every final failure (`failures`), and those not raised to the test yet, in the
    order their handlers raised."""

    def __init__(self) -> None:
        self.failures: list[HandlerFailure] = []
        self._raised: list[_Raised] = []
        self._seq = itertools.count()
        self._unraised: list[tuple[int, HandlerFailure]] = []
        self._seen_dead: set[str] = set()
        self._consumed: set[int] = set()

    def run_failed(self, run: Run, error: BaseException) -> None:
        self._raised.append(_Raised(next(self._seq), run, error))

    def collect_cron(self) -> None:
        for raised in self._raised:
            if raised.seq in self._consumed or raised.run.kind != "cron":
                continue
            self._consumed.add(raised.seq)
            self._add(
                raised.seq,
                HandlerFailure(
                    step=raised.run.step.name,
                    kind="cron",
                    trace_id=raised.run.trace_id,
                    error=f"{type(raised.error).__name__}: {raised.error}",
                    exception=raised.error,
                ),
            )

    def collect(self, dead_letters: list[DeadLetter]) -> None:
        """Take in failed cron runs and the dead letters not seen yet."""
        self.collect_cron()
        for letter in sorted(dead_letters, key=lambda d: d.failed_at):
            if letter.id in self._seen_dead:
                continue
            self._seen_dead.add(letter.id)
            match = self._raised_for(letter)
            failure = HandlerFailure(
                step=letter.subscriber,
                kind="event",
                trace_id=letter.trace_id,
                error=letter.error,
                exception=match.error if match is not None else None,
                topic=letter.topic,
                attempts=letter.attempts,
                data=letter.data,
                reason=letter.reason,
            )
            seq = match.seq if match is not None else len(self._raised) + len(self._unraised)
            self._add(seq, failure)
        self._unraised.sort(key=lambda pair: pair[0])

    def _raised_for(self, letter: DeadLetter) -> _Raised | None:
        """The exception of the attempt that sent `letter` to the dead-letter queue."""
        for raised in reversed(self._raised):
            run = raised.run
            if (
                run.kind == "event"
                and run.step.name == letter.subscriber
                and run.trace_id == letter.trace_id
                and run.event_id == letter.event_id
                and run.attempt == letter.attempts
            ):
                return raised
        return None

    def _add(self, seq: int, failure: HandlerFailure) -> None:
        self.failures.append(failure)
        self._unraised.append((seq, failure))

    def raise_for_trace(self, trace_id: str) -> None:
        """Raise the unraised failure of the run with `trace_id`, if there is one."""
        for index, (_, failure) in enumerate(self._unraised):
            if failure.trace_id == trace_id:
                del self._unraised[index]
                raise_failure(failure, [])

    def raise_first(self) -> None:
        """Raise the first failure not raised yet (naming the others), if any."""
        if not self._unraised:
            return
        pending = [failure for _, failure in self._unraised]
        self._unraised.clear()
        raise_failure(pending[0], pending[1:])

    def forget_unraised(self) -> None:
        """Keep them in `failures` only."""
        self._unraised.clear()


def raise_failure(failure: HandlerFailure, others: list[HandlerFailure]) -> NoReturn:
    """The handler's own exception when there is one (with notes naming the failure and
    any others), otherwise `FlowFailed`."""
    notes = [f"motia: {failure.describe()}"]
    if others:
        notes.append(f"motia: and {len(others)} more failure(s):")
        notes += [f"  - {other.describe()}" for other in others]
    error = failure.exception
    if error is None:
        error = FlowFailed(failure)
        notes = notes[1:]
    for note in notes:
        error.add_note(note)
    raise error
