"""Figure 9 (API): a POST step that emits one event to a trivial subscriber."""

from typing import Any

config = {
    "type": "api",
    "name": "CreateItem",
    "method": "POST",
    "path": "/items",
    "emits": ["item.created"],
    "flows": ["bench"],
}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    body = req["body"]
    await ctx.emit({"topic": "item.created", "data": body})
    return {"status": 201, "body": {"id": ctx.trace_id}}
