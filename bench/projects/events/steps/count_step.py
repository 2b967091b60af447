"""Figure 6a: the trivial subscriber of `bench.count`; its handler only counts.

bench/run.py finds this module in sys.modules and reads COUNT while the queue drains.
"""

from typing import Any

config = {
    "type": "event",
    "name": "Count",
    "subscribes": ["bench.count"],
    "emits": [],
    "flows": ["bench"],
}

COUNT = [0]


async def handler(input_data: Any, ctx: Any) -> None:
    COUNT[0] += 1
