"""Figure 2: POST with a validated JSON body, a state write and one emitted event."""

from typing import Any

config = {
    "type": "api",
    "name": "CreateItem",
    "method": "POST",
    "path": "/items",
    "bodySchema": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "kind": {"type": "string", "enum": ["document", "image", "video"]},
            "quantity": {"type": "integer", "minimum": 0},
        },
        "required": ["name"],
    },
    "emits": ["item.created"],
    "flows": ["bench"],
}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    body = req["body"]
    item = {
        "id": ctx.trace_id,
        "name": body["name"],
        "kind": body.get("kind", "document"),
        "quantity": body.get("quantity", 0),
    }
    await ctx.state.set("items", ctx.trace_id, item)
    await ctx.emit({"topic": "item.created", "data": item})
    return {"status": 201, "body": item}
