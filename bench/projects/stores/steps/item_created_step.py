"""Figure 9 (API): the trivial subscriber of `item.created`; it only counts."""

from typing import Any

from steps.counter import count

config = {
    "type": "event",
    "name": "ItemCreated",
    "subscribes": ["item.created"],
    "emits": [],
    "flows": ["bench"],
}


async def handler(input_data: Any, ctx: Any) -> None:
    count("ItemCreated")
