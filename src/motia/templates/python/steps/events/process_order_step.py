"""Price a new order and mark it processed."""

from typing import Any

from motia import EventConfig, FlowContext

from ..lib.pricing import price_of

config: EventConfig = {
    "type": "event",
    "name": "ProcessOrder",
    "description": "Price the order and record the result",
    "subscribes": ["order.created"],
    "emits": ["order.processed"],
    "input": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "item": {"type": "string"},
            "quantity": {"type": "integer"},
        },
        "required": ["id", "item", "quantity"],
    },
    # Failed runs are retried with backoff, then parked in the dead-letter queue.
    "infrastructure": {"queue": {"maxRetries": 3}},
    "flows": ["orders"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    order_id: str = input_data["id"]
    total = price_of(input_data["item"], input_data["quantity"])
    order = {
        **input_data,
        "total": total,
        "status": "processed",
        "processedAt": ctx.utils.dates.now().isoformat(),
    }
    await ctx.state.set("orders", order_id, order)
    await ctx.streams.orderStatus.set("orders", order_id, {"status": "processed", "total": total})
    await ctx.emit({"topic": "order.processed", "data": order})
    ctx.logger.info("Order processed", {"orderId": order_id, "total": total})
