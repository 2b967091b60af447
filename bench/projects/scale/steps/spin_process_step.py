"""Figure 13a: the same CPU-bound work as `spin_step.py` in the process executor: the server
process only dispatches, its worker processes (one per core) compute."""

import os
from typing import Any

from steps.counter import count

config = {"type": "event", "name": "SpinProcess", "subscribes": ["scale.spin_process"],
          "emits": [], "flows": ["scale"], "executor": "process"}

ITERATIONS = int(os.environ.get("MOTIA_BENCH_SPIN_ITERATIONS", "60000"))


def handler(input_data: Any, ctx: Any) -> None:
    x = 0
    for i in range(ITERATIONS):
        x = (x + i * i) % 1000003
    count("SpinProcess")
