"""Price a requested quote (Python). AuditTrail, a Ruby step, listens to quote.priced."""

from typing import Any

from motia import EventConfig, FlowContext

UNIT_PRICE = 4.5

config: EventConfig = {
    "type": "event",
    "name": "PriceQuote",
    "description": "Compute the price of a quote",
    "subscribes": ["quote.requested"],
    "emits": ["quote.priced"],
    "input": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "item": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1},
        },
        "required": ["id", "item", "quantity"],
    },
    "flows": ["quotes"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    quote_id: str = input_data["id"]  # the `input` schema has checked it
    try:
        priced = {
            **input_data,
            "price": round(UNIT_PRICE * input_data["quantity"], 2),
            "status": "priced",
            "pricedAt": ctx.utils.dates.now().isoformat(),
        }
        await ctx.state.set("quotes", quote_id, priced)
        await ctx.streams.quoteStatus.set("quotes", quote_id, {"status": "priced"})
        await ctx.emit({"topic": "quote.priced", "data": priced})
        ctx.logger.info("Quote priced", {"quoteId": quote_id, "price": priced["price"]})
    except Exception as exc:
        ctx.logger.error("Could not price the quote", {"quoteId": quote_id, "error": str(exc)})
        raise  # the queue retries the event
