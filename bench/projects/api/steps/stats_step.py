"""How many `item.created` events the subscriber handled; lets the harness check that the
events of figure 2 were really delivered."""

from typing import Any

from .item_created_step import RECEIVED

config = {
    "type": "api",
    "name": "BenchStats",
    "method": "GET",
    "path": "/bench/stats",
    "emits": [],
    "flows": ["bench"],
}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"status": 200, "body": {"itemCreatedEvents": RECEIVED[0]}}
