"""GET /orders/:id: read an order from state."""

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetOrder",
    "description": "Read an order and its status",
    "method": "GET",
    "path": "/orders/:id",
    "responseSchema": {
        200: {"type": "object", "properties": {"id": {"type": "string"}}},
        404: {"type": "object", "properties": {"error": {"type": "string"}}},
    },
    "emits": [],
    "flows": ["orders"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    order = await ctx.state.get("orders", req["pathParams"]["id"])
    if order is None:
        return {"status": 404, "body": {"error": "order not found"}}
    return {"status": 200, "body": order}
