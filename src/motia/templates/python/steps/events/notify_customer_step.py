"""Tell the customer: here it records the notification in state."""

from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "NotifyCustomer",
    "description": "Send the order confirmation",
    "subscribes": ["order.processed"],
    "emits": [],
    "flows": ["orders"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    order_id: str = input_data["id"]
    message = f"Your order of {input_data['quantity']} x {input_data['item']} is ready"
    await ctx.state.set("notifications", order_id, {"message": message})
    ctx.logger.info("Customer notified", {"orderId": order_id})
