"""Figure 8, the Python baseline: records when the handler starts (CLOCK_MONOTONIC and
wall-clock milliseconds) with one state call, as the JavaScript, TypeScript and Ruby steps do.
"""

import time
from typing import Any

config = {
    "type": "event",
    "name": "BenchPy",
    "subscribes": ["bench.py"],
    "emits": [],
    "flows": ["bench"],
}


async def handler(input_data: dict[str, Any], ctx: Any) -> None:
    started = [time.monotonic() * 1000, time.time() * 1000]
    await ctx.state.set("bench-py", str(input_data["seq"]), started)
