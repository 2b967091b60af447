"""Price a requested quote (Python); the Ruby AuditQuote step listens to quote.priced."""

from typing import Any

from motia import EventConfig, FlowContext

UNIT_PRICE = 4.5

config: EventConfig = {
    "type": "event",
    "name": "PriceQuote",
    "description": "Compute the price of a quote",
    "subscribes": ["quote.requested"],
    "emits": ["quote.priced"],
    "flows": ["quotes"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    quote_id: str = input_data["id"]
    priced = {
        **input_data,
        "price": round(UNIT_PRICE * input_data["quantity"], 2),
        "status": "priced",
    }
    await ctx.state.set("quotes", quote_id, priced)
    await ctx.streams.quoteStatus.set("quotes", quote_id, {"status": "priced"})
    await ctx.emit({"topic": "quote.priced", "data": priced})
    ctx.logger.info("Quote priced", {"quoteId": quote_id, "price": priced["price"]})
