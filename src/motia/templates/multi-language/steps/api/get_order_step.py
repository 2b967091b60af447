"""GET /orders/:id (Python): reads what the TypeScript, JavaScript and Ruby steps wrote."""

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetOrder",
    "description": "Read an order and its audit entry",
    "method": "GET",
    "path": "/orders/:id",
    "emits": [],
    "flows": ["orders"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    order_id = req["pathParams"]["id"]
    order = await ctx.state.get("orders", order_id)  # written by CreateOrder, NotifyWarehouse
    if order is None:
        return {"status": 404, "body": {"error": "order not found"}}
    audit = await ctx.state.get("audit", order_id)  # written by AuditTrail (Ruby)
    return {"status": 200, "body": {**order, "audited": audit is not None}}
