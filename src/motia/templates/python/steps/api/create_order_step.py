"""POST /orders: validate the order, remember it, and start the flow."""

import uuid

from pydantic import BaseModel, Field

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext


class OrderRequest(BaseModel):
    item: str = Field(min_length=1, description="What to order")
    quantity: int = Field(default=1, ge=1, le=100)


config: ApiRouteConfig = {
    "type": "api",
    "name": "CreateOrder",
    "description": "Accept an order and queue it for processing",
    "method": "POST",
    "path": "/orders",
    # A Pydantic model or a JSON Schema dict; invalid bodies get a 400 before the handler.
    "bodySchema": OrderRequest,
    "responseSchema": {
        201: {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "status": {"type": "string"},
                "traceId": {"type": "string"},
            },
            "required": ["id", "status"],
        },
    },
    "emits": ["order.created"],
    "flows": ["orders"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    body = OrderRequest.model_validate(req["body"])
    order_id = str(uuid.uuid4())
    order = {"id": order_id, "item": body.item, "quantity": body.quantity, "status": "received"}
    await ctx.state.set("orders", order_id, order)
    await ctx.streams.orderStatus.set("orders", order_id, {"status": "received"})
    await ctx.emit({"topic": "order.created", "data": order})
    ctx.logger.info("Order received", {"orderId": order_id})
    return {"status": 201, "body": {"id": order_id, "status": "received", "traceId": ctx.trace_id}}
