"""GET /quotes/:id (Python)."""

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetQuote",
    "description": "Read a quote",
    "method": "GET",
    "path": "/quotes/:id",
    "emits": [],
    "flows": ["quotes"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    quote = await ctx.state.get("quotes", req["pathParams"]["id"])
    if quote is None:
        return {"status": 404, "body": {"error": "quote not found"}}
    return {"status": 200, "body": quote}
