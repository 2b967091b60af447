"""Fan-in: once every check of a batch has reported, emit `batch.checked`, exactly once.

Each check's result is stored under its name, so a check delivered twice overwrites
itself instead of counting twice. The FIFO queue runs one result of a batch at a time,
so two results never read the state at once. The message that completes the set records
its event id as `joinedBy` before it emits: a later result (a duplicate) finds another
id there and stops, while a retry of that same message (its emit was never committed:
state writes take effect at once, emits only when the handler succeeds) emits again.
"""

from typing import Any

from steps.lib.batches import CHECKS

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "JoinChecks",
    "description": "Wait for every check of a batch, then pass it on once",
    "subscribes": ["batch.check.done"],
    "emits": ["batch.checked"],
    "input": {
        "type": "object",
        "properties": {
            "batchId": {"type": "string"},
            "check": {"type": "string", "enum": list(CHECKS)},
            "problems": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["batchId", "check", "problems"],
    },
    "flows": ["batches"],
    "infrastructure": {"queue": {"type": "fifo"}},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    batch_id: str = input_data["batchId"]
    join: dict[str, Any] = await ctx.state.get("checks", batch_id) or {"results": {}}
    if join.get("joinedBy") not in (None, ctx.event_id):
        ctx.logger.info("Check result after the join", {"batchId": batch_id})
        return
    join["results"][input_data["check"]] = input_data["problems"]
    missing = [name for name in CHECKS if name not in join["results"]]
    if not missing:
        join["joinedBy"] = ctx.event_id
    await ctx.state.set("checks", batch_id, join)
    if missing:
        ctx.logger.info("Waiting for checks", {"batchId": batch_id, "missing": missing})
        return
    problems = [p for name in CHECKS for p in join["results"][name]]
    await ctx.emit({"topic": "batch.checked", "data": {"id": batch_id, "problems": problems}})
