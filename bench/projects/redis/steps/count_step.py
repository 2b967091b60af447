"""Figure 7 (events): the trivial subscriber of `bench.count`. bench/run.py counts what is
left in its Redis queue, so the count works across worker processes."""

from typing import Any

config = {
    "type": "event",
    "name": "Count",
    "subscribes": ["bench.count"],
    "emits": [],
    "flows": ["bench"],
}


async def handler(input_data: Any, ctx: Any) -> None:
    return None
