"""POST /items: validate, keep the item in state, emit item.created."""

config = {
    "type": "api",
    "name": "CreateItem",
    "method": "POST",
    "path": "/items",
    "bodySchema": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "quantity": {"type": "integer"},
        },
        "required": ["id", "name"],
    },
    "emits": ["item.created"],
    "flows": ["soak"],
}


async def handler(req, ctx):
    item = req["body"]
    await ctx.state.set("items", item["id"], item)
    await ctx.emit({"topic": "item.created", "data": item})
    return {"status": 201, "body": {"id": item["id"]}}
