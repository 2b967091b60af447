from motia import http

config = {
    "name": "RemoveOrder",
    "flows": ["orders"],
    "triggers": [http("DELETE", "/orders/:id")],
    "enqueues": ["order.change"],
}


async def handler(request, ctx):
    order_id = request["pathParams"]["id"]
    await ctx.streams["order-feed"].delete("all", order_id)
    await ctx.enqueue({"topic": "order.change", "data": {"id": order_id, "status": "removed"}})
    return {"status": 204}
