"""POST /quotes (Python): ask for a price; PriceQuote answers in the background."""

import uuid

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "RequestQuote",
    "description": "Request a price quote",
    "method": "POST",
    "path": "/quotes",
    "bodySchema": {
        "type": "object",
        "properties": {
            "item": {"type": "string", "minLength": 1},
            "quantity": {"type": "integer", "minimum": 1},
        },
        "required": ["item", "quantity"],
    },
    "responseSchema": {
        202: {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
    },
    "emits": ["quote.requested"],
    "flows": ["quotes"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    quote_id = str(uuid.uuid4())
    quote = {"id": quote_id, "item": req["body"]["item"], "quantity": req["body"]["quantity"]}
    await ctx.state.set("quotes", quote_id, {**quote, "status": "requested"})
    await ctx.streams.quoteStatus.set("quotes", quote_id, {"status": "requested"})
    await ctx.emit({"topic": "quote.requested", "data": quote})
    return {"status": 202, "body": {"id": quote_id}}
