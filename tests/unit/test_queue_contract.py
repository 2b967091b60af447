"""One contract for every queue adapter: each backend must pass all of it.

Time is a fake clock moved by hand, so leases, delays and retries expire without sleeping.
The queues are opened by the backends of the table, so a new backend runs the whole
contract (add it to DURABLE if its messages survive a restart of the process).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from motia.adapters.backend import Backend
from motia.adapters.queue.base import (
    ALL_DEAD_LETTERS,
    DeadLetterFilter,
    Delivery,
    Failure,
    OutgoingMessage,
    QueueAdapter,
)
from motia.adapters.queue.batching import Batcher
from motia.adapters.sqlite.backend import SqliteBackend
from motia.testing.clock import ManualClock
from tests.unit import backend_support

START = 1_750_000_000.0
LEASE = 30.0


def start_clock() -> ManualClock:
    """The test clock, at START: it only moves when a test advances it."""
    return ManualClock(datetime.fromtimestamp(START, UTC))


# Backends whose messages outlive the adapter object (reopened on the same storage).
DURABLE = {"sqlite", "redis", "postgres"}
# Backends that many processes share at once (SQLite: the processes of one machine).
SHARED = {"sqlite", "redis", "postgres"}


@dataclass
class Harness:
    name: str
    tmp: Path
    clock: ManualClock = field(default_factory=start_clock)
    _opened: list[Backend] = field(default_factory=list)

    def open(self) -> QueueAdapter:
        # Each open is a new backend object on the same storage, like a new process.
        backend = backend_support.open_backend(self.name, self.tmp, self.clock)
        self._opened.append(backend)
        return backend.queue()

    def close(self) -> None:
        """Close everything opened so far (the storage stays for a reopen): files at
        once, connections to a server when `run` ends."""
        opened, self._opened = self._opened, []
        for backend in opened:
            if isinstance(backend, SqliteBackend):
                backend.database.close()


def _harness(name: str, tmp: Path) -> Iterator[Harness]:
    backend_support.require(name)  # skip (fail in CI) when its server is not there
    h = Harness(name, tmp)
    yield h
    h.close()
    backend_support.cleanup(tmp)


@pytest.fixture(params=backend_support.NAMES)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


@pytest.fixture(params=sorted(DURABLE))
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


@pytest.fixture(params=sorted(SHARED))
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


@pytest.fixture
def on_redis(tmp_path: Path) -> Iterator[Harness]:
    """For what only the Redis queue does (its batched script calls)."""
    yield from _harness("redis", tmp_path)


@pytest.fixture
def on_postgres(tmp_path: Path) -> Iterator[Harness]:
    """For what only the PostgreSQL queue does (its batched statements, its query plans)."""
    yield from _harness("postgres", tmp_path)


_ids = iter(range(1, 1_000_000))


_DEFAULT_DATA: Any = object()


def msg(
    subscriber: str = "Sub",
    data: Any = _DEFAULT_DATA,
    *,
    topic: str = "topic.a",
    group: str | None = None,
    delay: float = 0.0,
    trace: str = "trace-1",
    flows: list[str] | None = None,
    id: str | None = None,
) -> OutgoingMessage:
    n = next(_ids)
    return OutgoingMessage(
        id=id or f"m{n}",
        event_id=f"e{n}",
        subscriber=subscriber,
        topic=topic,
        data={"n": n} if data is _DEFAULT_DATA else data,
        trace_id=trace,
        flows=flows if flows is not None else ["flow-1"],
        group_id=group,
        delay=delay,
    )


async def lease_ids(queue: QueueAdapter, subscriber: str = "Sub", limit: int = 100) -> list[str]:
    return [d.id for d in await queue.lease(subscriber, limit, LEASE)]


async def lease_one(queue: QueueAdapter, subscriber: str = "Sub") -> Delivery:
    leased = await queue.lease(subscriber, 1, LEASE)
    assert len(leased) == 1, f"expected one leasable message, got {leased!r}"
    return leased[0]


FAIL = Failure(error="RuntimeError: boom", stack="Traceback ...\nRuntimeError: boom")


# --- publish and lease -----------------------------------------------------------------


async def test_publish_then_lease_returns_message_with_all_fields(harness: Harness) -> None:
    queue = harness.open()
    data = {"s": "text", "n": 1.5, "list": [1, None, True, {"deep": "x"}], "u": "äø"}
    sent = msg(data=data, trace="trace-42", flows=["f1", "f2"], group="g-1")
    await queue.publish([sent])
    [got] = await queue.lease("Sub", 10, LEASE)
    assert got.id == sent.id
    assert got.event_id == sent.event_id
    assert got.subscriber == "Sub"
    assert got.topic == "topic.a"
    assert got.data == data
    assert got.trace_id == "trace-42"
    assert got.flows == ["f1", "f2"]
    assert got.group_id == "g-1"
    assert got.attempt == 1
    assert got.lease_token
    assert got.enqueued_at == pytest.approx(START)


async def test_data_round_trips_as_json_and_is_a_copy(harness: Harness) -> None:
    queue = harness.open()
    data: dict[str, Any] = {"items": [1, 2], "tuple": (1, 2)}
    await queue.publish([msg(data=data)])
    data["items"].append(3)  # changing the object after publish does not leak in
    got = await lease_one(queue)
    assert got.data == {"items": [1, 2], "tuple": [1, 2]}  # JSON: a tuple is a list
    for scalar in (0, "", None, False, "plain"):
        await queue.publish([msg("Scalars", data=scalar)])
        assert (await lease_one(queue, "Scalars")).data == scalar


async def test_subscribers_have_separate_queues(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg("A", id="a1"), msg("B", id="b1")])
    assert await lease_ids(queue, "A") == ["a1"]
    assert await lease_ids(queue, "B") == ["b1"]
    assert await lease_ids(queue, "Nobody") == []


async def test_lease_honours_limit_oldest_first(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id=f"x{i}") for i in range(5)])
    assert await lease_ids(queue, limit=2) == ["x0", "x1"]
    assert await lease_ids(queue, limit=1) == ["x2"]
    assert await lease_ids(queue, limit=10) == ["x3", "x4"]
    assert await lease_ids(queue, limit=10) == []


async def test_leased_message_is_not_leased_again_while_lease_holds(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="only")])
    assert await lease_ids(queue) == ["only"]
    harness.clock.advance(LEASE - 1)
    assert await lease_ids(queue) == []


async def test_expired_lease_is_leased_again_and_old_token_is_void(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="m")])
    first = await lease_one(queue)
    assert first.attempt == 1
    harness.clock.advance(LEASE + 1)
    second = await lease_one(queue)
    assert (second.id, second.attempt) == ("m", 2)
    assert second.lease_token != first.lease_token

    # The first holder lost its lease: nothing it does has an effect.
    await queue.extend([first], 1000)
    assert await queue.complete(first, [msg("Downstream")]) is False
    await queue.retry(first, 0, FAIL)
    await queue.release(first)
    await queue.dead_letter(first, FAIL)
    assert await lease_ids(queue, "Downstream") == []
    assert await queue.dead_letters() == []
    assert await lease_ids(queue) == []  # still leased by the second holder
    stats = await queue.stats("Sub")
    assert (stats.in_flight, stats.dead) == (1, 0)
    # ... while the second holder's lease works normally.
    assert await queue.complete(second, []) is True
    assert (await queue.stats("Sub")).waiting == 0


async def test_expired_lease_nobody_took_over_is_still_held(harness: Harness) -> None:
    """A lease that ran out but was not taken over still counts: its holder (on a busy
    loop, say) can still complete, retry or release the message."""

    queue = harness.open()
    await queue.publish([msg(id="m"), msg(id="r"), msg(id="x")])
    held = {d.id: d for d in await queue.lease("Sub", 3, LEASE)}
    harness.clock.advance(LEASE + 0.5)
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight) == (3, 0)  # visible again, not yet taken
    assert await queue.complete(held["m"], [msg("Downstream", id="d1")]) is True
    assert await lease_ids(queue, "Downstream") == ["d1"]
    await queue.retry(held["r"], 10, FAIL)
    await queue.release(held["x"])
    again = await lease_one(queue)
    assert (again.id, again.attempt) == ("x", 1)  # released: the attempt did not count
    assert await lease_ids(queue) == []  # "r" waits for its retry delay
    harness.clock.advance(10)
    retried = await lease_one(queue)
    assert (retried.id, retried.attempt) == ("r", 2)


async def test_extend_keeps_message_leased_past_original_expiry(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="m")])
    held = await lease_one(queue)
    harness.clock.advance(LEASE - 5)
    await queue.extend([held], LEASE)  # now leased until START + 2 * LEASE - 5
    harness.clock.advance(10)  # past the original expiry
    assert await lease_ids(queue) == []
    assert (await queue.stats("Sub")).in_flight == 1
    assert await queue.complete(held, []) is True

    await queue.publish([msg(id="n")])
    held = await lease_one(queue)
    await queue.extend([held], LEASE)
    harness.clock.advance(LEASE + 1)  # the extended lease ran out as well
    again = await lease_one(queue)
    assert (again.id, again.attempt) == ("n", 2)


# --- complete --------------------------------------------------------------------------


async def test_complete_removes_message_and_publishes_emits(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="m")])
    held = await lease_one(queue)
    emits = [msg("Next", id="e1", data={"k": 1}), msg("Other", id="e2", group="g")]
    assert await queue.complete(held, emits) is True
    assert await lease_ids(queue) == []
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight, stats.delayed, stats.dead) == (0, 0, 0, 0)
    nxt = await lease_one(queue, "Next")
    assert (nxt.id, nxt.data, nxt.attempt) == ("e1", {"k": 1}, 1)
    other = await lease_one(queue, "Other")
    assert (other.id, other.group_id) == ("e2", "g")
    # completing twice is not possible
    assert await queue.complete(held, [msg("Next", id="e3")]) is False
    assert await lease_ids(queue, "Next") == []


async def test_complete_honours_delay_of_emits(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="m")])
    held = await lease_one(queue)
    assert await queue.complete(held, [msg("Next", id="late", delay=5)])
    assert await lease_ids(queue, "Next") == []
    harness.clock.advance(5)
    assert await lease_ids(queue, "Next") == ["late"]


async def test_complete_with_unserialisable_emit_keeps_message(harness: Harness) -> None:
    """All or nothing: if the emits cannot be stored, the message is not acknowledged."""

    queue = harness.open()
    await queue.publish([msg(id="m")])
    held = await lease_one(queue)
    bad = [msg("Next", id="ok"), msg("Next", id="bad", data={"x": object()})]
    with pytest.raises(TypeError):
        await queue.complete(held, bad)
    assert await lease_ids(queue, "Next") == []
    assert (await queue.stats("Sub")).in_flight == 1  # still held, not acknowledged
    assert await queue.complete(held, []) is True


# --- retry and release -----------------------------------------------------------------


async def test_retry_hides_message_for_delay_and_counts_the_attempt(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="m")])
    held = await lease_one(queue)
    await queue.retry(held, 10, FAIL)
    assert await lease_ids(queue) == []
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight, stats.delayed) == (1, 0, 1)
    harness.clock.advance(9.5)
    assert await lease_ids(queue) == []
    harness.clock.advance(0.5)
    again = await lease_one(queue)
    assert (again.id, again.attempt) == ("m", 2)
    await queue.retry(again, 0, FAIL)
    third = await lease_one(queue)
    assert third.attempt == 3
    # the retried holder's old token is void
    assert await queue.complete(held, []) is False


async def test_release_gives_message_back_without_counting_the_attempt(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="m")])
    held = await lease_one(queue)
    await queue.release(held)
    again = await lease_one(queue)  # at once, no waiting for the lease to run out
    assert (again.id, again.attempt) == ("m", 1)
    await queue.retry(again, 0, FAIL)
    second = await lease_one(queue)
    assert second.attempt == 2
    await queue.release(second)
    assert (await lease_one(queue)).attempt == 2
    assert await queue.complete(held, []) is False


async def test_release_with_delay_hides_message_without_counting_the_attempt(
    harness: Harness,
) -> None:
    queue = harness.open()
    await queue.publish([msg(id="m", group="g"), msg(id="behind", group="g"), msg(id="other")])
    held = await lease_one(queue)
    assert held.id == "m"
    await queue.release(held, delay=5.0)  # a flow-control limit was full
    # Hidden for the delay; in its FIFO group nothing overtakes it meanwhile.
    assert await lease_ids(queue) == ["other"]
    assert await queue.next_delayed_at("Sub", harness.clock.time()) == pytest.approx(START + 5)
    harness.clock.advance(4.9)
    assert await lease_ids(queue) == []
    harness.clock.advance(0.1)
    again = await lease_one(queue)
    assert (again.id, again.attempt) == ("m", 1)


async def test_lease_takes_the_highest_priority_first_then_the_oldest(harness: Harness) -> None:
    queue = harness.open()
    ranked = [("a", 0), ("b", 5), ("c", -3), ("d", 5), ("e", 1000), ("f", -1000), ("g", 0)]
    await queue.publish([replace(msg(id=id_), priority=p) for id_, p in ranked[:4]])
    await queue.publish([replace(msg(id=id_), priority=p) for id_, p in ranked[4:]])
    assert await lease_ids(queue, limit=2) == ["e", "b"]
    assert await lease_ids(queue) == ["d", "a", "g", "c", "f"]


async def test_a_released_or_delayed_message_keeps_its_priority(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="old"), replace(msg(id="urgent", delay=5), priority=9)])
    harness.clock.advance(5)  # visible only now: it still goes first
    held = await lease_one(queue)
    assert held.id == "urgent"
    await queue.release(held, delay=1.0)
    assert await lease_ids(queue) == ["old"]
    harness.clock.advance(1)
    assert await lease_ids(queue) == ["urgent"]


async def test_delay_on_publish(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="late", delay=10), msg(id="now")])
    assert await lease_ids(queue) == ["now"]
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight, stats.delayed) == (1, 1, 1)
    harness.clock.advance(9.9)
    assert await lease_ids(queue) == []
    harness.clock.advance(0.1)
    late = await lease_one(queue)
    assert (late.id, late.attempt) == ("late", 1)


# --- FIFO --------------------------------------------------------------------------------


async def test_fifo_only_the_head_of_a_group_is_leasable(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id=f"g{i}", group="G") for i in range(3)])
    head = await lease_one(queue)
    assert head.id == "g0"
    assert await lease_ids(queue) == []  # the rest waits for the head
    assert await queue.complete(head, [])
    nxt = await lease_one(queue)
    assert nxt.id == "g1"
    await queue.dead_letter(nxt, FAIL)  # dead-lettering the head unblocks the group
    last = await lease_one(queue)
    assert last.id == "g2"
    assert await queue.complete(last, [])
    assert await lease_ids(queue) == []


async def test_fifo_lease_with_large_limit_takes_one_per_group(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish(
        [
            msg(id="a1", group="A"),
            msg(id="b1", group="B"),
            msg(id="a2", group="A"),
            msg(id="free1"),
            msg(id="b2", group="B"),
            msg(id="free2"),
            msg(id="d1", group=""),  # the default group is a group like any other
            msg(id="d2", group=""),
        ]
    )
    assert await lease_ids(queue, limit=100) == ["a1", "b1", "free1", "free2", "d1"]


async def test_fifo_retrying_head_blocks_its_group_only(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="a1", group="A"), msg(id="a2", group="A"), msg(id="b1", group="B")])
    leased = await queue.lease("Sub", 10, LEASE)
    assert [d.id for d in leased] == ["a1", "b1"]  # different groups run in parallel
    a1 = leased[0]
    await queue.retry(a1, 10, FAIL)
    assert await lease_ids(queue) == []  # a2 must not overtake the retrying a1
    harness.clock.advance(10)
    again = await lease_one(queue)
    assert (again.id, again.attempt) == ("a1", 2)
    assert await queue.complete(again, [])
    assert await lease_ids(queue) == ["a2"]


async def test_fifo_expired_head_is_leased_before_the_rest(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="a1", group="A"), msg(id="a2", group="A")])
    assert await lease_ids(queue) == ["a1"]
    harness.clock.advance(LEASE + 1)
    again = await lease_one(queue)
    assert (again.id, again.attempt) == ("a1", 2)
    assert await lease_ids(queue) == []


async def test_fifo_delayed_head_blocks_its_group(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="a1", group="A", delay=5), msg(id="a2", group="A")])
    assert await lease_ids(queue) == []
    harness.clock.advance(5)
    assert await lease_ids(queue) == ["a1"]


async def test_unordered_messages_lease_in_parallel(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id=f"u{i}") for i in range(3)])
    first = await lease_one(queue)
    await queue.retry(first, 100, FAIL)  # a retrying message blocks nothing
    assert await lease_ids(queue) == ["u1", "u2"]


async def test_fifo_groups_are_per_subscriber(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg("A", id="x1", group="G"), msg("B", id="y1", group="G")])
    assert await lease_ids(queue, "A") == ["x1"]
    assert await lease_ids(queue, "B") == ["y1"]


# --- dead letters ------------------------------------------------------------------------


async def test_dead_letter_keeps_error_stack_reason_attempts_and_times(harness: Harness) -> None:
    queue = harness.open()
    sent = msg(data={"v": 1}, trace="t-dl", flows=["f"], group="G", topic="t.x")
    await queue.publish([sent])
    held = await lease_one(queue)
    await queue.retry(held, 0, FAIL)
    harness.clock.advance(7)
    held = await lease_one(queue)
    assert held.attempt == 2
    await queue.dead_letter(held, Failure(error="E: x", stack="STACK", reason="why"))
    assert await lease_ids(queue) == []
    [dead] = await queue.dead_letters()
    assert dead.id == sent.id
    assert dead.event_id == sent.event_id
    assert dead.subscriber == "Sub"
    assert dead.topic == "t.x"
    assert dead.data == {"v": 1}
    assert dead.trace_id == "t-dl"
    assert dead.flows == ["f"]
    assert dead.group_id == "G"
    assert dead.attempts == 2
    assert (dead.error, dead.stack, dead.reason) == ("E: x", "STACK", "why")
    assert dead.enqueued_at == pytest.approx(START)
    assert dead.failed_at == pytest.approx(START + 7)
    assert dead.as_dict()["step"] == "Sub"
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight, stats.delayed, stats.dead) == (0, 0, 0, 1)


async def _dead(queue: QueueAdapter, clock: ManualClock, messages: list[OutgoingMessage]) -> None:
    """Publish and dead-letter each message, one clock tick apart."""
    await queue.publish(messages)
    for m in messages:
        clock.advance(1)
        held = await lease_one(queue, m.subscriber)
        assert held.id == m.id
        await queue.dead_letter(held, FAIL)


async def test_dead_letters_filter_and_page(harness: Harness) -> None:
    queue = harness.open()
    await _dead(
        queue,
        harness.clock,
        [
            msg("A", id="d1", topic="t1"),
            msg("A", id="d2", topic="t2"),
            msg("B", id="d3", topic="t1"),
            msg("A", id="d4", topic="t1"),
            msg("B", id="d5", topic="t2"),
        ],
    )

    async def ids(where: DeadLetterFilter = ALL_DEAD_LETTERS, **kw: int) -> list[str]:
        return [d.id for d in await queue.dead_letters(where, **kw)]

    assert await ids() == ["d5", "d4", "d3", "d2", "d1"]  # newest first
    assert await ids(DeadLetterFilter(subscriber="A")) == ["d4", "d2", "d1"]
    assert await ids(DeadLetterFilter(topic="t1")) == ["d4", "d3", "d1"]
    assert await ids(DeadLetterFilter(subscriber="B", topic="t1")) == ["d3"]
    assert await ids(DeadLetterFilter(ids=("d1", "d5", "nope"))) == ["d5", "d1"]
    assert await ids(DeadLetterFilter(ids=("d1", "d5"), subscriber="A")) == ["d1"]
    assert await ids(DeadLetterFilter(subscriber="Nobody")) == []
    assert await ids(limit=2) == ["d5", "d4"]
    assert await ids(limit=2, offset=2) == ["d3", "d2"]
    assert await ids(limit=2, offset=4) == ["d1"]
    assert await ids(offset=5) == []
    assert await ids(DeadLetterFilter(subscriber="A"), limit=1, offset=1) == ["d2"]


async def test_redrive_resets_attempts_and_returns_count(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg("A", id="r1"), msg("A", id="r2"), msg("B", id="r3")])
    for _ in range(3):  # three failed attempts of r1
        held = await lease_one(queue, "A")
        assert held.id == "r1"
        await queue.retry(held, 0, FAIL)
    held = await lease_one(queue, "A")
    assert held.attempt == 4
    await queue.dead_letter(held, FAIL)
    for m in ("A", "B"):
        held = await lease_one(queue, m)
        await queue.dead_letter(held, FAIL)
    assert [d.attempts for d in await queue.dead_letters(DeadLetterFilter(ids=("r1",)))] == [4]

    assert await queue.redrive(DeadLetterFilter(ids=("r1",))) == 1
    assert {d.id for d in await queue.dead_letters()} == {"r2", "r3"}
    back = await lease_one(queue, "A")
    assert (back.id, back.attempt) == ("r1", 1)
    assert back.data == {"n": int(back.event_id[1:])}
    assert (await queue.stats("A")).dead == 1

    assert await queue.redrive(DeadLetterFilter(subscriber="Nobody")) == 0
    assert await queue.redrive() == 2
    assert await queue.dead_letters() == []
    assert await lease_ids(queue, "A") == ["r2"]
    assert (await lease_one(queue, "B")).attempt == 1


async def test_redrive_of_fifo_message_rejoins_its_group(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([msg(id="a1", group="A")])
    await queue.dead_letter(await lease_one(queue), FAIL)
    assert await queue.redrive() == 1
    back = await lease_one(queue)
    assert (back.id, back.group_id, back.attempt) == ("a1", "A", 1)


async def test_purge_deletes_dead_letters(harness: Harness) -> None:
    queue = harness.open()
    await _dead(queue, harness.clock, [msg("A", id="p1"), msg("A", id="p2"), msg("B", id="p3")])
    assert await queue.purge(DeadLetterFilter(ids=("p2",))) == 1
    assert {d.id for d in await queue.dead_letters()} == {"p1", "p3"}
    assert await queue.purge(DeadLetterFilter(subscriber="A")) == 1
    assert await queue.purge(DeadLetterFilter(subscriber="A")) == 0
    assert await queue.purge() == 1
    assert await queue.dead_letters() == []
    assert await queue.redrive() == 0
    assert await lease_ids(queue, "A") == [] and await lease_ids(queue, "B") == []


# --- stats and next_visible_at -----------------------------------------------------------


async def test_stats_counts_waiting_in_flight_delayed_and_dead(harness: Harness) -> None:
    queue = harness.open()
    empty = await queue.stats("Sub")
    assert (empty.subscriber, empty.waiting, empty.in_flight, empty.delayed, empty.dead) == (
        "Sub",
        0,
        0,
        0,
        0,
    )
    await queue.publish([msg(id=f"s{i}") for i in range(4)] + [msg(id="late", delay=60)])
    await queue.publish([msg("Other", id="o1")])
    leased = await queue.lease("Sub", 3, LEASE)
    assert [d.id for d in leased] == ["s0", "s1", "s2"]
    await queue.retry(leased[0], 10, FAIL)  # waiting, delayed
    await queue.dead_letter(leased[1], FAIL)  # dead
    stats = await queue.stats("Sub")  # s2 in flight; s0, s3, late waiting; s0, late delayed
    assert (stats.waiting, stats.in_flight, stats.delayed, stats.dead) == (3, 1, 2, 1)
    assert stats.as_dict() == {
        "step": "Sub",
        "waiting": 3,
        "inFlight": 1,
        "delayed": 2,
        "dead": 1,
        "oldestWaitingAt": START,  # s3: s0 waits for its retry, s2 is in flight
        "oldestAge": 0.0,
    }
    harness.clock.advance(LEASE + 1)  # s2's lease ran out; s0 is visible again
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight, stats.delayed, stats.dead) == (4, 0, 1, 1)
    harness.clock.advance(60)
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight, stats.delayed, stats.dead) == (4, 0, 0, 1)
    other = await queue.stats("Other")
    assert (other.waiting, other.in_flight, other.delayed, other.dead) == (1, 0, 0, 0)


async def test_oldest_waiting_message_is_the_oldest_a_worker_could_take(
    harness: Harness,
) -> None:
    queue = harness.open()
    assert (await queue.stats("Sub")).oldest_waiting_at is None
    assert (await queue.stats("Sub")).oldest_age == 0.0
    await queue.publish([msg(id="first"), msg(id="later", delay=100)])
    harness.clock.advance(5)
    await queue.publish([msg(id="second"), msg(id="g1", group="g"), msg(id="g2", group="g")])
    harness.clock.advance(10)
    stats = await queue.stats("Sub")
    assert (stats.oldest_waiting_at, stats.oldest_age) == (START, pytest.approx(15))
    first = await lease_one(queue)
    assert first.id == "first"  # in flight: the oldest waiting one is now `second`
    stats = await queue.stats("Sub")
    assert (stats.oldest_waiting_at, stats.oldest_age) == (START + 5, pytest.approx(10))
    # Retrying (delayed into the future) is not waiting; its lease running out is not
    # either, until the retry delay has passed.
    await queue.retry(first, 30, FAIL)
    assert (await queue.stats("Sub")).oldest_waiting_at == START + 5
    assert await lease_ids(queue, limit=2) == ["second", "g1"]
    # g2 waits behind its group's head (in flight): nothing can be taken now.
    stats = await queue.stats("Sub")
    assert (stats.oldest_waiting_at, stats.oldest_age) == (None, 0.0)
    harness.clock.advance(30)  # first's retry delay has passed: visible again
    stats = await queue.stats("Sub")
    assert (stats.oldest_waiting_at, stats.oldest_age) == (START, pytest.approx(45))
    harness.clock.advance(LEASE)  # the leases of second and g1 ran out as well
    assert (await queue.stats("Sub")).oldest_age == pytest.approx(45 + LEASE)
    assert await lease_ids(queue) == ["first", "second", "g1"]
    harness.clock.advance(60)  # `later` (visible since START + 100) is the oldest
    stats = await queue.stats("Sub")
    assert (stats.oldest_waiting_at, stats.oldest_age) == (START, pytest.approx(135))
    assert stats.as_dict()["oldestWaitingAt"] == START
    assert (await queue.stats("Other")).oldest_waiting_at is None


async def test_next_visible_at(harness: Harness) -> None:
    queue = harness.open()
    assert await queue.next_visible_at("Sub") is None
    await queue.publish([msg(id="late", delay=20)])
    assert await queue.next_visible_at("Sub") == pytest.approx(START + 20)
    await queue.publish([msg(id="now")])
    next_at = await queue.next_visible_at("Sub")
    assert next_at is not None and next_at <= START
    held = await lease_one(queue)
    assert held.id == "now"
    assert await queue.next_visible_at("Sub") == pytest.approx(START + 20)
    harness.clock.advance(20)
    late = await lease_one(queue)
    # both leased: the next one becomes visible when the first lease runs out
    assert await queue.next_visible_at("Sub") == pytest.approx(START + LEASE)
    await queue.retry(held, 100, FAIL)
    assert await queue.next_visible_at("Sub") == pytest.approx(START + 20 + LEASE)
    assert await queue.complete(late, [])
    assert await queue.next_visible_at("Sub") == pytest.approx(START + 120)
    harness.clock.advance(100)
    assert await queue.complete(await lease_one(queue), [])
    assert await queue.next_visible_at("Sub") is None
    assert await queue.next_visible_at("Nobody") is None


async def test_lease_and_peek_leases_and_says_when_to_look_next(harness: Harness) -> None:
    """Fewer than `limit` leased: the second value is what next_visible_at answers after
    the lease, so a worker needs no second query; `limit` leased: 0.0, look again."""

    queue = harness.open()
    assert await queue.lease_and_peek("Sub", 5, LEASE) == ([], None)
    await queue.publish([msg(id="late", delay=20), msg(id="a"), msg(id="b"), msg(id="c")])
    full, next_at = await queue.lease_and_peek("Sub", 2, LEASE)
    assert ([d.id for d in full], next_at) == (["a", "b"], 0.0)
    assert [d.attempt for d in full] == [1, 1]
    rest, next_at = await queue.lease_and_peek("Sub", 5, LEASE)
    assert [d.id for d in rest] == ["c"]
    assert next_at == pytest.approx(START + 20)
    assert next_at == await queue.next_visible_at("Sub")
    harness.clock.advance(20)
    late, next_at = await queue.lease_and_peek("Sub", 5, LEASE)
    assert [(d.id, d.attempt) for d in late] == [("late", 1)]
    assert next_at == pytest.approx(START + LEASE)  # the first leases run out then
    assert all([await queue.complete(d, []) for d in [*full, *rest, *late]])
    assert await queue.lease_and_peek("Sub", 5, LEASE) == ([], None)
    # a group blocked behind its running head: visible, but nothing can be leased
    await queue.publish([msg(id="g1", group="G"), msg(id="g2", group="G")])
    head, next_at = await queue.lease_and_peek("Sub", 5, LEASE)
    assert [d.id for d in head] == ["g1"]
    assert next_at is not None and next_at <= harness.clock.time()
    assert next_at == await queue.next_visible_at("Sub")
    assert await queue.lease_and_peek("Sub", 5, LEASE) == ([], next_at)


async def test_concurrent_completes_and_publishes_each_get_their_own_answer(
    harness: Harness,
) -> None:
    """Writes made at once (handlers finishing in one loop turn) may share a round trip;
    each still succeeds or fails on its own."""

    queue = harness.open()
    await queue.publish([msg(id=f"m{i}") for i in range(6)])
    held = await queue.lease("Sub", 6, LEASE)
    lost = held[0]
    harness.clock.advance(LEASE + 1)
    retaken = await queue.lease("Sub", 1, LEASE)  # m0's lease ran out and was taken
    assert [d.id for d in retaken] == ["m0"]
    bad = [msg("Next", id="bad", data={"x": object()})]
    results = await asyncio.gather(
        queue.complete(lost, [msg("Next", id="from-lost")]),
        *(queue.complete(d, [msg("Next", id=f"from-{d.id}")]) for d in held[1:5]),
        queue.complete(held[5], bad),
        queue.publish([msg("Next", id="published")]),
        queue.complete(retaken[0], []),
        return_exceptions=True,
    )
    assert results[:5] == [False, True, True, True, True]
    assert isinstance(results[5], TypeError)  # only the caller with the bad emit fails
    assert results[6:] == [None, True]
    nxt = sorted(await lease_ids(queue, "Next"))
    assert nxt == sorted(["from-m1", "from-m2", "from-m3", "from-m4", "published"])
    # m5 was not acknowledged: its lease (run out, but not taken over) is still held
    assert (await queue.stats("Sub")).waiting == 1
    assert await queue.complete(held[5], []) is True
    assert (await queue.stats("Sub")).waiting == 0


async def test_cancelled_complete_is_all_or_nothing(harness: Harness) -> None:
    """A worker stopping cancels a handler that may be acknowledging its message: the
    acknowledgement then happened with its emits, or not at all and the lease is held."""

    queue = harness.open()
    await queue.publish([msg(id="m")])
    held = await lease_one(queue)
    task = asyncio.create_task(queue.complete(held, [msg("Next", id="e")]))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.01)  # let anything already sent finish
    emitted = await lease_ids(queue, "Next")
    if emitted:
        assert emitted == ["e"]
        stats = await queue.stats("Sub")
        assert (stats.waiting, stats.in_flight) == (0, 0)
    else:
        await queue.release(held)  # what the worker does next: the message comes back
        again = await lease_one(queue)
        assert (again.id, again.attempt) == ("m", 1)


async def test_cancelled_lease_leaves_nothing_leased_for_nobody(harness: Harness) -> None:
    """A worker stopping cancels its lease call: the caller got the messages, or they are
    leasable again at once, their attempt not counted."""

    queue = harness.open()
    await queue.publish([msg(id="a"), msg(id="b")])
    task = asyncio.create_task(queue.lease("Sub", 10, LEASE))
    await asyncio.sleep(0)
    task.cancel()
    [outcome] = await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.05)  # a lease already on its way arrives and is given back
    if isinstance(outcome, asyncio.CancelledError):
        again = await queue.lease("Sub", 10, LEASE)
        assert [(d.id, d.attempt) for d in again] == [("a", 1), ("b", 1)]
    else:
        assert isinstance(outcome, list)
        assert [d.id for d in outcome] == ["a", "b"]


# --- bad input ---------------------------------------------------------------------------


async def test_unserialisable_data_is_rejected_and_nothing_is_stored(harness: Harness) -> None:
    queue = harness.open()
    with pytest.raises(TypeError):
        await queue.publish([msg(id="ok"), msg(id="bad", data={"x": object()})])
    assert await lease_ids(queue) == []
    assert (await queue.stats("Sub")).waiting == 0
    assert await queue.next_visible_at("Sub") is None
    await queue.publish([msg(id="fine")])  # the adapter is still usable
    assert await lease_ids(queue) == ["fine"]


async def test_publishing_nothing_is_fine(harness: Harness) -> None:
    queue = harness.open()
    await queue.publish([])
    assert await queue.lease("Sub", 10, LEASE) == []
    await queue.extend([], LEASE)


# --- durability --------------------------------------------------------------------------


async def test_reopened_store_keeps_messages_leases_and_dead_letters(durable: Harness) -> None:
    queue = durable.open()
    await queue.publish(
        [
            msg(id="waiting", data={"w": 1}, group="G"),
            msg(id="leased"),
            msg(id="doomed"),
            msg(id="delayed", delay=100),
            msg(id="acked"),
        ]
    )
    leased = await queue.lease("Sub", 4, LEASE)
    assert [d.id for d in leased] == ["waiting", "leased", "doomed", "acked"]
    await queue.release(leased[0])
    await queue.dead_letter(leased[2], Failure("E: dead", "STACK", "gave up"))
    assert await queue.complete(leased[3], [msg("Next", id="emitted")])
    durable.close()  # the process goes away with "leased" still leased

    queue = durable.open()
    assert [d.id for d in await queue.dead_letters()] == ["doomed"]
    [dead] = await queue.dead_letters()
    assert (dead.error, dead.stack, dead.reason, dead.attempts) == (
        "E: dead",
        "STACK",
        "gave up",
        1,
    )
    assert await lease_ids(queue, "Next") == ["emitted"]
    waiting = await lease_one(queue)
    assert (waiting.id, waiting.data, waiting.group_id, waiting.attempt) == (
        "waiting",
        {"w": 1},
        "G",
        1,
    )
    assert await queue.complete(waiting, [])
    assert await lease_ids(queue) == []  # "leased" is still under its lease
    durable.clock.advance(LEASE + 1)
    again = await lease_one(queue)
    assert (again.id, again.attempt) == ("leased", 2)
    assert await queue.complete(again, [])
    durable.clock.advance(100)
    assert await lease_ids(queue) == ["delayed"]
    assert await queue.redrive() == 1
    durable.close()

    queue = durable.open()
    back = await lease_one(queue)
    assert (back.id, back.attempt) == ("doomed", 1)
    assert await queue.dead_letters() == []


async def test_two_processes_never_lease_the_same_message_and_keep_fifo(shared: Harness) -> None:
    """Two adapters on one storage (two processes) lease concurrently: every message is
    leased once, and each group runs in order, one at a time."""

    one, two = shared.open(), shared.open()
    sent = [msg(id=f"c{i}", group=f"G{i % 4}" if i % 2 else None) for i in range(120)]
    await one.publish(sent)
    leased: list[str] = []
    running: dict[str, str] = {}  # group -> id of the message running now

    async def worker(queue: QueueAdapter) -> None:
        idle = 0
        while idle < 3:
            batch = await queue.lease("Sub", 7, LEASE)
            idle = 0 if batch else idle + 1
            for delivery in batch:
                if delivery.group_id is not None:
                    assert delivery.group_id not in running, "a group ran twice at once"
                    running[delivery.group_id] = delivery.id
                leased.append(delivery.id)
            await asyncio.sleep(0)
            for delivery in batch:
                if delivery.group_id is not None:
                    del running[delivery.group_id]
                assert await queue.complete(delivery, [])

    await asyncio.gather(worker(one), worker(two), worker(one), worker(two))
    assert sorted(leased) == sorted(m.id for m in sent)  # each exactly once
    for group in ("G1", "G3"):
        order = [i for i in leased if i in {m.id for m in sent if m.group_id == group}]
        assert order == [m.id for m in sent if m.group_id == group]
    assert (await one.stats("Sub")).waiting == 0


async def test_writes_of_one_loop_turn_share_one_round_trip(on_redis: Harness) -> None:
    """Redis: publishes, completes and leases made at once go out in one script call, in
    the order they were made, and a lease that comes back short says when to look next."""

    from motia.adapters.redis.queue import RedisQueueAdapter

    queue = on_redis.open()
    assert isinstance(queue, RedisQueueAdapter)
    calls: list[int] = []
    write = queue._write  # the registered WRITE script

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await write(*args, **kwargs)

    queue._write = counted  # type: ignore[method-assign]
    await queue.publish([msg(id=f"m{i}") for i in range(30)])
    held = await queue.lease("Sub", 30, LEASE)
    assert (len(held), len(calls)) == (30, 2)
    emits = [[msg("Next", id=f"e{i}")] for i in range(30)]
    *done, (leased, next_at) = await asyncio.gather(
        *(queue.complete(d, e) for d, e in zip(held, emits, strict=True)),
        queue.publish([msg("Next", id="p")]),
        queue.lease_and_peek("Next", 100, LEASE),  # sees what was written before it
    )
    assert done == [True] * 30 + [None]
    assert len(leased) == 31
    assert next_at == pytest.approx(START + LEASE)  # when these leases run out
    assert len(calls) == 3


async def test_postgres_writes_of_one_loop_turn_share_one_statement(
    on_postgres: Harness,
) -> None:
    """PostgreSQL: publishes and completes made at once are one statement (one commit), in
    the order they were made, and a lease that comes back short says when to look next
    without a second statement."""

    from motia.adapters.postgres.queue import PostgresQueueAdapter

    queue = on_postgres.open()
    assert isinstance(queue, PostgresQueueAdapter)
    await queue.publish([msg(id=f"m{i}") for i in range(30)])
    held = await queue.lease("Sub", 30, LEASE)
    statements: list[str] = []
    fetch = queue._db.fetch

    async def counted(query: Any, params: Any = None) -> Any:
        statements.append(str(query))
        return await fetch(query, params)

    queue._db.fetch = counted  # type: ignore[method-assign]
    done = await asyncio.gather(
        *(queue.complete(d, [msg("Next", id=f"e{i}")]) for i, d in enumerate(held)),
        queue.publish([msg("Next", id="p")]),
    )
    assert done == [True] * 30 + [None]
    assert len(statements) == 1
    leased, next_at = await queue.lease_and_peek("Next", 100, LEASE)
    assert [d.id for d in leased] == [f"e{i}" for i in range(30)] + ["p"]
    assert next_at == pytest.approx(START + LEASE)  # when these leases run out
    assert len(statements) == 2


async def test_postgres_lease_reads_the_head_of_a_backlog_not_all_of_it(
    on_postgres: Harness,
) -> None:
    """A queue table fills faster than the server refreshes its statistics: a lease must
    still walk the index from the oldest message and stop, never read and sort the whole
    backlog (which makes every lease cost milliseconds under load)."""

    from motia.adapters.postgres import queue as postgres_queue

    queue = on_postgres.open()
    assert isinstance(queue, postgres_queue.PostgresQueueAdapter)
    for start in range(0, 5000, 1000):
        await queue.publish([msg(id=f"b{i}") for i in range(start, start + 1000)])
    now = on_postgres.clock.time()
    params = {"subscriber": "Sub", "now": now, "limit": 5, "token": "t", "until": now + LEASE}
    async with queue._db.connection() as connection:
        cursor = await connection.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + postgres_queue._LEASE, params
        )
        [(plan,)] = await cursor.fetchall()

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    scans = [n for n in nodes(plan[0]["Plan"]) if n["Node Type"].endswith("Scan")]
    read = [n for n in scans if n.get("Relation Name") == "queue_messages"]
    assert read, plan
    assert max(n["Actual Rows"] for n in read) <= 5, read
    assert not [n for n in nodes(plan[0]["Plan"]) if n["Node Type"] == "Sort"], plan


async def test_postgres_stats_find_the_oldest_waiting_message_at_the_head_of_the_index(
    on_postgres: Harness,
) -> None:
    """A scrape asks every subscriber's stats: the oldest waiting message is found by
    walking the subscriber's index from its oldest row and stopping, never by sorting the
    backlog."""

    from motia.adapters.postgres import queue as postgres_queue

    queue = on_postgres.open()
    assert isinstance(queue, postgres_queue.PostgresQueueAdapter)
    for start in range(0, 5000, 1000):
        await queue.publish([msg(id=f"b{i}") for i in range(start, start + 1000)])
    await queue.lease("Sub", 3, LEASE)  # in flight: the walk passes them
    params = {"subscriber": "Sub", "now": on_postgres.clock.time()}
    async with queue._db.connection() as connection:
        cursor = await connection.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + postgres_queue._STATS, params
        )
        [(plan,)] = await cursor.fetchall()

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    # `m`: the rows the oldest-message lookup reads (`g` looks up group heads).
    [walk] = [n for n in nodes(plan[0]["Plan"]) if n.get("Alias") == "m"]
    assert walk["Node Type"] == "Index Scan", walk
    assert walk["Actual Rows"] == 1 and walk["Rows Removed by Filter"] == 3, walk
    assert not [n for n in nodes(plan[0]["Plan"]) if n["Node Type"] == "Sort"], plan
    assert (await queue.stats("Sub")).oldest_waiting_at == START


async def test_postgres_completes_with_state_writes_in_one_transaction(
    on_postgres: Harness,
) -> None:
    """PostgreSQL: a handler's state writes commit with its emits and the completion of its
    message, in the order it made them; a lost lease or a bad emit writes none of them."""

    from motia.adapters.memory.state import MemoryStateAdapter
    from motia.adapters.state.pending import PendingStateWrites

    queue = on_postgres.open()
    state = on_postgres._opened[-1].state()
    assert queue.holds_state_writes(state)
    assert not queue.holds_state_writes(MemoryStateAdapter())
    other = on_postgres.open()  # another process's pool: no shared transaction
    assert not other.holds_state_writes(state)
    await state.set("orders", "old", {"n": 0})
    await queue.publish([msg(id=f"m{i}") for i in range(3)])
    kept, lost, bad = await queue.lease("Sub", 3, LEASE)

    pending = PendingStateWrites(state)
    await pending.clear("orders")
    await pending.set("orders", "a", {"n": 1})
    await pending.set("orders", "b", {"n": 2})
    await pending.delete("orders", "a")
    emits = [msg("Next", id="from-kept")]
    assert await queue.complete_with_state(kept, emits, pending.writes) is True
    assert await state.items("orders") == {"b": {"n": 2}}
    [emitted] = await queue.lease("Next", 10, LEASE)
    assert emitted.id == "from-kept"
    assert await queue.complete(emitted, []) is True

    on_postgres.clock.advance(LEASE + 1)
    [retaken] = [d for d in await queue.lease("Sub", 2, LEASE) if d.id == lost.id]
    late = PendingStateWrites(state)
    await late.set("orders", "late", True)
    lost_emits = [msg("Next", id="from-lost")]
    assert await queue.complete_with_state(lost, lost_emits, late.writes) is False
    assert await state.get("orders", "late") is None
    assert await queue.complete(retaken, []) is True

    broken = PendingStateWrites(state)
    await broken.set("orders", "c", 3)
    with pytest.raises(TypeError):
        await queue.complete_with_state(bad, [msg("Next", data={"x": object()})], broken.writes)
    assert await state.get("orders", "c") is None
    assert await lease_ids(queue, "Next") == []  # neither from-lost nor the bad emit
    stats = await queue.stats("Sub")
    assert stats.waiting + stats.in_flight == 1  # the bad one was not completed


async def test_postgres_cancelled_completion_with_state_finishes_whole(
    on_postgres: Harness,
) -> None:
    """A worker stopping cancels a handler that is completing its message: the transaction,
    once started, still commits whole (never some writes without the others)."""
    from motia.adapters.state.pending import PendingStateWrites

    queue = on_postgres.open()
    state = on_postgres._opened[-1].state()
    await queue.publish([msg(id="m")])
    [delivery] = await queue.lease("Sub", 1, LEASE)
    pending = PendingStateWrites(state)
    for i in range(50):
        await pending.set("g", f"k{i:02}", i)
    task = asyncio.ensure_future(
        queue.complete_with_state(delivery, [msg("Next", id="e")], pending.writes)
    )
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    for _ in range(500):  # the shielded transaction goes on without its caller
        written = await state.keys("g")
        if written:
            break
        await asyncio.sleep(0.01)
    assert written == [f"k{i:02}" for i in range(50)]
    assert await lease_ids(queue, "Next") == ["e"]
    assert (await queue.stats("Sub")).waiting == 0


async def test_lease_cancelled_after_it_was_sent_gives_its_messages_back(
    on_redis: Harness,
) -> None:
    from motia.adapters.redis.queue import RedisQueueAdapter

    queue = on_redis.open()
    assert isinstance(queue, RedisQueueAdapter)
    await queue.publish([msg(id="a"), msg(id="b")])
    sent, go_on = asyncio.Event(), asyncio.Event()
    write = queue._write

    async def held_back(*args: Any, **kwargs: Any) -> Any:
        result = await write(*args, **kwargs)  # Redis has leased the messages
        sent.set()
        await go_on.wait()
        return result

    queue._write = held_back  # type: ignore[method-assign]
    task = asyncio.create_task(queue.lease("Sub", 10, LEASE))
    await sent.wait()
    task.cancel()
    go_on.set()
    [outcome] = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(outcome, asyncio.CancelledError)
    await queue.close()  # waits for the messages to be given back
    again = await on_redis.open().lease("Sub", 10, LEASE)
    assert [(d.id, d.attempt) for d in again] == [("a", 1), ("b", 1)]


# --- the batching helper ----------------------------------------------------------------


async def test_batcher_gathers_one_turn_caps_batches_and_keeps_failures_apart() -> None:
    batches: list[list[int]] = []

    async def flush(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0)
        if 13 in items:
            raise RuntimeError("unlucky batch")
        return [i * 10 for i in items]

    batcher: Batcher[int, int] = Batcher(flush, max_weight=5)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(4)))
    assert (results, batches) == ([0, 10, 20, 30], [[0, 1, 2, 3]])
    batches.clear()
    heavy = await asyncio.gather(batcher.submit(1, weight=3), batcher.submit(2, weight=3))
    assert (heavy, batches) == ([10, 20], [[1], [2]])  # over max_weight together
    batches.clear()
    outcome = await asyncio.gather(
        batcher.submit(13, weight=5), batcher.submit(7), return_exceptions=True
    )
    assert isinstance(outcome[0], RuntimeError) and outcome[1] == 70
    assert batches == [[13], [7]]  # the failed batch did not take the next one down


async def test_batcher_skips_callers_cancelled_before_their_batch_is_sent() -> None:
    sent: list[str] = []

    async def flush(items: list[str]) -> list[str]:
        sent.extend(items)
        return items

    batcher: Batcher[str, str] = Batcher(flush, max_weight=100)
    gone = asyncio.create_task(batcher.submit("gone"))
    kept = asyncio.create_task(batcher.submit("kept"))
    await asyncio.sleep(0)  # both submitted; the flush has not run yet
    gone.cancel()
    assert await kept == "kept"
    assert sent == ["kept"]
    assert gone.cancelled()
    await batcher.drain()


async def test_next_delayed_at_sees_past_visible_and_blocked_messages(harness: Harness) -> None:
    queue = harness.open()
    clock = harness.clock
    assert await queue.next_delayed_at("Sub", clock.time()) is None
    await queue.publish([msg(id="ready"), msg(id="later", delay=50), msg(id="soon", delay=20)])
    # A visible message does not hide the ones waiting for time.
    assert await queue.next_delayed_at("Sub", clock.time()) == pytest.approx(START + 20)
    # A FIFO head waiting for its retry: the group moves again when the retry is due.
    await queue.publish([msg("Fifo", id="head", group="g"), msg("Fifo", id="next", group="g")])
    [head] = await queue.lease("Fifo", 1, LEASE)
    await queue.retry(head, 30, FAIL)
    assert await queue.next_delayed_at("Fifo", clock.time()) == pytest.approx(START + 30)
    clock.advance(20)
    assert await queue.next_delayed_at("Sub", clock.time()) == pytest.approx(START + 50)
    clock.advance(40)
    assert await queue.next_delayed_at("Sub", clock.time()) is None
    assert await queue.next_delayed_at("Fifo", clock.time()) is None
    assert await queue.next_delayed_at("Nobody", clock.time()) is None


# --- taken as published (an idle local worker runs the message without leasing it) ------


# Backends whose `publish` can lease messages to the publisher in the same write.
TAKING = {"sqlite", "redis"}


@pytest.fixture(params=sorted(TAKING))
def taking(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from _harness(request.param, tmp_path)


def _taking(taking: Harness) -> QueueAdapter:
    queue = taking.open()
    assert queue.leases_on_publish
    return queue


async def test_a_message_taken_as_published_is_leased_to_its_publisher(
    taking: Harness,
) -> None:
    queue = _taking(taking)
    data: dict[str, Any] = {"items": [1, 2], "tuple": (1, 2)}
    taken, left = msg(data=data, trace="trace-7", flows=["f1"]), msg()
    until = START + LEASE
    [delivery] = await queue.publish_taking([taken, left], {taken.id}, "tok-1", until)
    data["items"].append(3)  # the delivery's data is what was stored, not the object
    assert delivery.id == taken.id and delivery.event_id == taken.event_id
    assert delivery.subscriber == "Sub" and delivery.topic == "topic.a"
    assert delivery.data == {"items": [1, 2], "tuple": [1, 2]}
    assert delivery.trace_id == "trace-7" and delivery.flows == ["f1"]
    assert delivery.group_id is None
    assert delivery.attempt == 1 and delivery.lease_token == "tok-1"
    assert delivery.enqueued_at == pytest.approx(START)
    # Leased: nobody else gets it while the lease holds; the other one is there to lease.
    assert await lease_ids(queue) == [left.id]
    stats = await queue.stats("Sub")
    assert (stats.waiting, stats.in_flight) == (0, 2)
    assert await queue.complete(delivery, [])
    assert await queue.next_visible_at("Sub") == pytest.approx(START + LEASE)


async def test_a_taken_message_whose_publisher_died_runs_again_when_its_lease_ends(
    taking: Harness,
) -> None:
    queue = _taking(taking)
    sent = msg()
    [first] = await queue.publish_taking([sent], {sent.id}, "tok-dead", START + LEASE)
    assert await lease_ids(queue) == []
    taking.clock.advance(LEASE + 1)
    again = await lease_one(queue)
    assert (again.id, again.attempt) == (sent.id, 2)  # the first attempt was counted
    assert not await queue.complete(first, [])  # the dead publisher's lease is void
    assert await queue.complete(again, [])


async def test_a_taken_message_can_be_handed_back_uncounted(taking: Harness) -> None:
    queue = _taking(taking)
    sent = msg()
    [delivery] = await queue.publish_taking([sent], {sent.id}, "tok-back", START + LEASE)
    await queue.release(delivery)
    again = await lease_one(queue)
    assert (again.id, again.attempt) == (sent.id, 1)


async def test_a_message_queued_already_is_not_taken_twice(taking: Harness) -> None:
    queue = _taking(taking)
    sent = msg()
    await queue.publish([sent])
    # A publish retried after a lost answer: the message is queued once, and leasable.
    assert await queue.publish_taking([sent], {sent.id}, "tok-dup", START + LEASE) == []
    assert await lease_ids(queue) == [sent.id]


async def test_taking_respects_scheduled_and_ordered_messages_around_it(
    taking: Harness,
) -> None:
    queue = _taking(taking)
    taken = msg()
    ordered = [msg(group="G"), msg(group="G")]
    delayed = msg(delay=5.0)
    scheduled = replace(msg(), fire_at=START + 9.0, delay=9.0, key="k-1")
    [delivery] = await queue.publish_taking(
        [taken, *ordered, delayed, scheduled], {taken.id}, "tok-mix", START + LEASE
    )
    assert delivery.id == taken.id
    assert await lease_ids(queue) == [ordered[0].id]  # the head of its group only
    assert [s.key for s in await queue.scheduled()] == ["k-1"]
    taking.clock.advance(10.0)
    assert sorted(await lease_ids(queue)) == sorted([delayed.id, scheduled.id])


async def test_queues_that_cannot_take_on_publish_say_so(harness: Harness) -> None:
    queue = harness.open()
    assert queue.leases_on_publish == (harness.name in TAKING)
    if harness.name not in TAKING:
        with pytest.raises(NotImplementedError):
            await queue.publish_taking([msg()], set(), "tok", START + LEASE)
