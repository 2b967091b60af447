from motia import http

config = {"name": "RemoveOrder", "flows": ["orders"], "triggers": [http("DELETE", "/orders/:id")]}


async def handler(request, ctx):
    await ctx.streams["order-feed"].delete("all", request["pathParams"]["id"])
    return {"status": 204}
