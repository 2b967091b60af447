"""GET /items/:id: read an item back from state."""

config = {
    "type": "api",
    "name": "GetItem",
    "method": "GET",
    "path": "/items/:id",
    "flows": ["soak"],
}


async def handler(req, ctx):
    item = await ctx.state.get("items", req["pathParams"]["id"])
    if item is None:
        return {"status": 404, "body": {"error": "not found"}}
    return {"status": 200, "body": item}
