"""Figure 14: the subscriber of `bench.fire`; it records how late each scheduled emit ran.

bench/fig_scheduled.py finds this module in sys.modules and reads LATENESS as the
scheduled emits fire: seconds between the time each was scheduled for and its handler start.
"""

import time
from typing import Any

config = {
    "type": "event",
    "name": "Fire",
    "subscribes": ["bench.fire"],
    "emits": [],
    "flows": ["bench"],
}

LATENESS: list[float] = []
SEEN: set[int] = set()
DUPLICATES = [0]


async def handler(input_data: Any, ctx: Any) -> None:
    now = time.time()
    seq = input_data["seq"]
    if seq in SEEN:
        DUPLICATES[0] += 1
        return
    SEEN.add(seq)
    fire_at = input_data.get("fireAt")
    if fire_at is not None:
        LATENESS.append(now - fire_at)
