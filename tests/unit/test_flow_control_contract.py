"""Flow control of event steps, through the whole runtime, on every backend: concurrency
per key, throttle, idempotency and debounce. The test kit's fake clock drives every wait
(a released message's delay, a throttle period, a debounce window) without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from motia.testing import MotiaTester, create_tester
from motia.testing.clock import ManualClock
from tests.unit import backend_support, flow_project

START = datetime(2030, 1, 1, tzinfo=UTC).timestamp()


def backend_config(name: str, tmp: Path) -> dict[str, Any]:
    settings = backend_support.settings_for(tmp)
    return {
        "state_adapter": name,
        "queue_adapter": name,
        "data_dir": tmp / "data",
        "redis_url": settings.redis_url,
        "redis_prefix": settings.redis_prefix,
        "database_url": settings.database_url,
        "database_schema": settings.database_schema,
    }


@dataclass
class Setup:
    """The project and backend of one test; `tester()` opens the running project."""

    name: str
    tmp: Path

    def tester(self) -> MotiaTester:
        root = flow_project.write(self.tmp / "project")
        clock = ManualClock(datetime.fromtimestamp(START, UTC))
        env = {"FLOW_JOURNAL": str(self.tmp / "journal.jsonl")}
        return create_tester(root, env=env, config=backend_config(self.name, self.tmp), clock=clock)


@pytest.fixture(params=backend_support.NAMES)
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    backend_support.require(request.param)
    yield Setup(request.param, tmp_path)
    backend_support.cleanup(tmp_path)


def journal_of(tester: MotiaTester) -> Path:
    return Path(tester.env["FLOW_JOURNAL"])


async def test_concurrency_per_key_is_never_exceeded_and_nothing_is_lost(
    setup: Setup,
) -> None:
    async with setup.tester() as tester:
        for n in range(8):
            for user in ("ann", "bob"):
                await tester.emit({"topic": "work", "data": {"user": user, "n": n}})
        await tester.wait_until_idle(timeout=30)
        path = journal_of(tester)
        # Reached the limit (so this can fail), never passed it.
        assert flow_project.max_overlap(path, "user") == {"ann": 2, "bob": 2}
        runs = flow_project.journal(path, "start")
        assert sorted((r["user"], r["n"]) for r in runs) == sorted(
            (u, n) for n in range(8) for u in ("ann", "bob")
        )
        # A message released because its key was full did not burn an attempt.
        assert await tester.dead_letters() == []


async def test_throttle_lets_limit_starts_per_period_and_the_rest_wait(
    setup: Setup,
) -> None:
    async with setup.tester() as tester:
        for n in range(7):
            await tester.emit({"topic": "pay", "data": {"account": "a", "n": n}})
        await tester.emit({"topic": "pay", "data": {"account": "b", "n": 0}})
        await tester.wait_until_idle(timeout=30)
        pays = flow_project.journal(journal_of(tester), "pay")
        a_times = sorted(p["at"] - START for p in pays if p["account"] == "a")
        assert len(a_times) == 7  # none dropped
        # Any 60 s window holds at most 3 starts of account a.
        for i, t in enumerate(a_times):
            assert sum(1 for u in a_times[i:] if u < t + 60) <= 3
        assert a_times[:3] == [0, 0, 0]
        assert a_times[3] == pytest.approx(60) and a_times[6] == pytest.approx(120)
        # Account b has its own limit: it did not wait behind a.
        assert [p["at"] - START for p in pays if p["account"] == "b"] == [0]


async def test_idempotency_key_runs_a_duplicate_once_within_the_window(
    setup: Setup,
) -> None:
    async with setup.tester() as tester:
        for n in range(3):
            await tester.emit({"topic": "charge", "data": {"orderId": "o-1", "n": n}})
        await tester.emit({"topic": "charge", "data": {"orderId": "o-2", "n": 0}})
        await tester.wait_until_idle(timeout=30)
        charges = flow_project.journal(journal_of(tester), "charge")
        assert sorted(c["orderId"] for c in charges) == ["o-1", "o-2"]
        skipped = [r for r in tester.logs if "duplicate event skipped" in r.get("msg", "")]
        assert len(skipped) == 2
        assert "Charge" in skipped[0]["msg"] and "'o-1'" in skipped[0]["msg"]
        # Past the window the key may run again.
        await tester.advance(61)
        await tester.emit({"topic": "charge", "data": {"orderId": "o-1", "n": 9}})
        await tester.wait_until_idle(timeout=30)
        charges = flow_project.journal(journal_of(tester), "charge")
        assert [c["n"] for c in charges if c["orderId"] == "o-1"][-1] == 9
        assert await tester.dead_letters() == []


async def test_debounce_runs_once_per_key_with_the_last_event_after_quiet(
    setup: Setup,
) -> None:
    async with setup.tester() as tester:
        await tester.emit({"topic": "typed", "data": {"doc": "a", "v": 1}})
        await tester.advance(4)
        await tester.emit({"topic": "typed", "data": {"doc": "a", "v": 2}})
        await tester.advance(4)
        await tester.emit({"topic": "typed", "data": {"doc": "a", "v": 3}})
        await tester.emit({"topic": "typed", "data": {"doc": "b", "v": 1}})
        await tester.advance(9.5)
        path = journal_of(tester)
        assert flow_project.journal(path, "save") == []  # still inside the quiet period
        await tester.advance(1)
        saves = flow_project.journal(path, "save")
        assert sorted((s["doc"], s["v"], s["at"] - START) for s in saves) == [
            ("a", 3, pytest.approx(18)),
            ("b", 1, pytest.approx(18)),
        ]


async def test_priority_runs_higher_first_and_fifo_order_wins_in_a_group(setup: Setup) -> None:
    async with setup.tester() as tester:
        ranks = [["p-none", None], ["p5", 5], ["p-2", -2], ["p0", 0], ["p10", 10]]
        await tester.emit({"topic": "seed", "data": {"ranks": ranks}})
        await tester.wait_until_idle(timeout=30)
        path = journal_of(tester)
        # The step's own priority (1) stands in for the emit that gives none.
        ranked = [r["name"] for r in flow_project.journal(path, "ranked")]
        assert ranked == ["p10", "p5", "p-none", "p0", "p-2"]
        # A FIFO step keeps the emit order: order within a group wins.
        fifo = [r["name"] for r in flow_project.journal(path, "fifo")]
        assert fifo == ["p-none", "p5", "p-2", "p0", "p10"]


async def test_batch_hands_the_handler_lists_of_up_to_size_inputs(setup: Setup) -> None:
    async with setup.tester() as tester:
        done = tester.watch("item.done")
        for n in range(10):
            await tester.emit({"topic": "item", "data": {"n": n}})
        await tester.wait_until_idle(timeout=30)
        calls = flow_project.journal(journal_of(tester), "batch")
        sizes = [len(call["ns"]) for call in calls]
        assert sorted(n for call in calls for n in call["ns"]) == list(range(10))
        assert max(sizes) == 4 and len(calls) >= 3, sizes
        # One emit per call, published with the batch's acknowledgement.
        assert len(done.events) == len(calls)
        assert await tester.dead_letters() == []


async def test_a_failed_batch_retries_whole_and_bad_inputs_are_left_out(setup: Setup) -> None:
    async with setup.tester() as tester:
        await tester.emit({"topic": "item", "data": {"n": 0}})
        await tester.emit({"topic": "item", "data": {"n": 1, "fail": True}})
        await tester.emit({"topic": "item", "data": {"n": "not a number"}})
        await tester.emit({"topic": "item", "data": {"n": 2}})
        await tester.wait_until_idle(timeout=30, raise_errors=False)
        calls = flow_project.journal(journal_of(tester), "batch")
        assert [(c["ns"], c["attempt"]) for c in calls] == [([0, 1, 2], 1), ([0, 1, 2], 2)]
        [dead] = await tester.dead_letters()
        assert dead.data == {"n": "not a number"} and dead.reason == "invalid input"
