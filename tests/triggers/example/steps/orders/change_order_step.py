"""POST /orders/:id/pay and /orders/:id/ship, or the `order.change` topic: one handler
for two routes and a queue."""

from motia import http, queue

config = {
    "name": "ChangeOrder",
    "flows": ["orders"],
    "triggers": [
        http("POST", "/orders/:id/pay"),
        http("POST", "/orders/:id/ship"),
        queue("order.change"),
    ],
    "enqueues": [],
}


async def handler(input, ctx):
    if ctx.is_api():
        order_id = input["pathParams"]["id"]
        status = "paid" if ctx.trigger["path"].endswith("/pay") else "shipped"
    else:
        order_id, status = input["id"], input["status"]
    new = await ctx.state.update(
        "orders", order_id, [{"type": "set", "path": "status", "value": status}]
    )
    if status == "shipped":
        await ctx.streams["order-feed"].update(
            "all", order_id, [{"type": "set", "path": "status", "value": "shipped"}]
        )
    return {"status": 200, "body": new} if ctx.is_api() else None
