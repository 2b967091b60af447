"""Fan-out branch: no single record is above the per-record limit."""

from typing import Any

from steps.lib.batches import RECORD_LIMIT

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "CheckLimits",
    "description": "Refuse records above the per-record limit",
    "subscribes": ["batch.submitted"],
    "emits": ["batch.check.done"],
    "flows": ["batches"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    problems = [
        f"record {r['id']}: {r['amount']:g} is above the limit of {RECORD_LIMIT:g}"
        for r in input_data["records"]
        if r["amount"] > RECORD_LIMIT
    ]
    await ctx.emit(
        {
            "topic": "batch.check.done",
            "data": {"batchId": input_data["id"], "check": "limits", "problems": problems},
            "messageGroupId": input_data["id"],
        }
    )
