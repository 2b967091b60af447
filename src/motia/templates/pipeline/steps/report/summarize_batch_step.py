"""Python computation: totals per country of an approved batch."""

from collections import defaultdict
from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "SummarizeBatch",
    "description": "Compute the totals per country of an approved batch",
    "subscribes": ["batch.approved"],
    "emits": ["batch.summarized"],
    "flows": ["batches"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    batch_id: str = input_data["id"]
    batch: dict[str, Any] = await ctx.state.get("batches", batch_id)
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for record in batch["records"]:
        totals[record["country"]] += record["amount"]
        counts[record["country"]] += 1
    countries = [
        {"country": c, "count": counts[c], "total": round(totals[c], 2)}
        for c in sorted(totals, key=lambda c: (-totals[c], c))
    ]
    total = round(sum(totals.values()), 2)
    await ctx.emit(
        {
            "topic": "batch.summarized",
            "data": {
                "id": batch_id,
                "count": len(batch["records"]),
                "total": total,
                "countries": countries,
            },
        }
    )
