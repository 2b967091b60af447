"""Figure 13a: a CPU-bound subscriber. It computes without awaiting (about 5 ms of pure
Python), so one process runs one at a time on one core: throughput grows only with
processes."""

import os
from typing import Any

from steps.counter import count

config = {"type": "event", "name": "Spin", "subscribes": ["scale.spin"], "emits": [],
          "flows": ["scale"]}

ITERATIONS = int(os.environ.get("MOTIA_BENCH_SPIN_ITERATIONS", "60000"))


async def handler(input_data: Any, ctx: Any) -> None:
    x = 0
    for i in range(ITERATIONS):
        x = (x + i * i) % 1000003
    count("Spin")
