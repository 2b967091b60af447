"""The one subscriber of `item.created`; counts what it receives (read by /bench/stats)."""

from typing import Any

config = {
    "type": "event",
    "name": "ItemCreated",
    "subscribes": ["item.created"],
    "emits": [],
    "input": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        "required": ["id", "name"],
    },
    "flows": ["bench"],
}

RECEIVED = [0]


async def handler(input_data: dict[str, Any], ctx: Any) -> None:
    RECEIVED[0] += 1
