"""POST /orders: an order is placed; test orders are refused by the condition."""

from motia import http


def not_a_test(request, ctx):
    return not request["body"].get("test", False)


config = {
    "name": "CreateOrder",
    "description": "Places an order",
    "flows": ["orders"],
    "triggers": [
        http(
            "POST",
            "/orders",
            body_schema={
                "type": "object",
                "properties": {"id": {"type": "string"}, "amount": {"type": "number"}},
                "required": ["id", "amount"],
            },
            condition=not_a_test,
        )
    ],
    "enqueues": ["order.placed"],
}


async def handler(request, ctx):
    order = ctx.get_data()
    # One message group: orders are looked at in the order they were placed.
    await ctx.enqueue({"topic": "order.placed", "data": order, "messageGroupId": "orders"})
    return {"status": 202, "body": {"id": order["id"]}}
