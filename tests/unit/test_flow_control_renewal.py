"""A concurrency slot outlives a long run: the running handler renews it, so a crashed
process's slots expire (after SLOT_TTL) while a live one's never do; and it is given back
the moment the run ends. Real time here, with a short SLOT_TTL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from motia.adapters.flow.base import LocalFlowSlots
from motia.adapters.queue.base import Delivery
from motia.clock import Clock
from motia.logs import Logger, LogSink
from motia.runtime import flow_control
from motia.runtime.flow_control import FlowGate
from motia.runtime.loading import load_project
from motia.runtime.queue_policy import QueuePolicy, policy_for
from motia.steps.model import Step
from tests.conftest import write_project

STEP = """
config = {
    "type": "event",
    "name": "Long",
    "subscribes": ["long"],
    "emits": [],
    "concurrency": {"limit": 1, "key": "data.k"},
}


async def handler(data, ctx):
    pass
"""


class _Queue:
    """Records what the gate does with messages it does not run."""

    def __init__(self) -> None:
        self.released: list[tuple[str, float]] = []

    async def release(self, delivery: Delivery, delay: float = 0.0) -> None:
        self.released.append((delivery.id, delay))


def _delivery(id_: str) -> Delivery:
    return Delivery(id_, "e-" + id_, "Long", "long", {"k": "a"}, "t", [], None, 1, "tok", 0.0)


async def test_a_long_run_keeps_its_slot_and_gives_it_back_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flow_control, "SLOT_TTL", 0.3)
    write_project(tmp_path, {"steps/long_step.py": STEP})
    [step] = load_project(tmp_path).steps
    slots = LocalFlowSlots(Clock())
    queue = _Queue()
    gate = FlowGate(slots, queue, Logger(LogSink("error"), None, None, []))  # type: ignore[arg-type]
    running = asyncio.Event()
    finish = asyncio.Event()

    ran: list[str] = []

    async def run(step: Step, policy: QueuePolicy, delivery: Delivery) -> Any:
        ran.append(delivery.id)
        if delivery.id == "m1":
            running.set()
            await finish.wait()

    gated = gate.wrap(run)
    policy = policy_for(step, 10)
    first = asyncio.create_task(gated(step, policy, _delivery("m1")))
    await asyncio.wait_for(running.wait(), 5)
    await asyncio.sleep(0.6)  # twice the slot's life: renewed meanwhile
    await gated(step, policy, _delivery("m2"))  # the key is still full: released
    assert ran == ["m1"] and [id_ for id_, _ in queue.released] == ["m2"]
    assert 0 < queue.released[0][1] < 1
    finish.set()
    await asyncio.wait_for(first, 5)
    assert await slots.take("conc:Long:a", "m3", 1, 0.3) == 0  # given back at once
