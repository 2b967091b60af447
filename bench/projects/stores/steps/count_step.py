"""Figure 9 (events): the trivial subscriber of `bench.count`; it only counts."""

from typing import Any

from steps.counter import count

config = {
    "type": "event",
    "name": "Count",
    "subscribes": ["bench.count"],
    "emits": [],
    "flows": ["bench"],
}


async def handler(input_data: Any, ctx: Any) -> None:
    count("Count")
