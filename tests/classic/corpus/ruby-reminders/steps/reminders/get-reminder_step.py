config = {
    "type": "api",
    "name": "GetReminder",
    "path": "/reminders/:id",
    "method": "GET",
    "emits": [],
    "flows": ["reminders"],
}


async def handler(req, ctx):
    reminder = await ctx.state.get("reminders", req["pathParams"]["id"])
    if not reminder:
        return {"status": 404, "body": {"error": "no such reminder"}}
    return {"status": 200, "body": reminder}
