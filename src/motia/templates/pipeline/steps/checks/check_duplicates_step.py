"""Fan-out branch: no record id appears twice in a batch."""

from collections import Counter
from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "CheckDuplicates",
    "description": "Find record ids that appear more than once",
    "subscribes": ["batch.submitted"],
    "emits": ["batch.check.done"],
    "flows": ["batches"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    counts = Counter(r["id"] for r in input_data["records"])
    problems = [f"record {rid} appears {n} times" for rid, n in counts.items() if n > 1]
    await ctx.emit(
        {
            "topic": "batch.check.done",
            "data": {"batchId": input_data["id"], "check": "duplicates", "problems": problems},
            "messageGroupId": input_data["id"],
        }
    )
