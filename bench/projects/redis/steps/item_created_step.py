"""Figure 7 (API): the trivial subscriber of `item.created`."""

from typing import Any

config = {
    "type": "event",
    "name": "ItemCreated",
    "subscribes": ["item.created"],
    "emits": [],
    "flows": ["bench"],
}


async def handler(input_data: Any, ctx: Any) -> None:
    return None
