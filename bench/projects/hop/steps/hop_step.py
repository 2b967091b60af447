"""Figure 3: records when each `bench.hop` event reaches its handler.

bench/run.py finds this module in sys.modules and reads ARRIVALS after each publish.
"""

import time
from typing import Any

config = {
    "type": "event",
    "name": "Hop",
    "subscribes": ["bench.hop"],
    "emits": [],
    "input": {
        "type": "object",
        "properties": {"seq": {"type": "integer"}},
        "required": ["seq"],
    },
    "flows": ["bench"],
}

ARRIVALS: list[tuple[int, float]] = []


async def handler(input_data: dict[str, Any], ctx: Any) -> None:
    ARRIVALS.append((input_data["seq"], time.perf_counter()))
