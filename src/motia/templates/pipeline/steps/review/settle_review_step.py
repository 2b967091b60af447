"""The review state machine: awaiting review → approved, rejected or expired, once."""

from typing import Any

from steps.lib.batches import set_status

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "SettleReview",
    "description": "Settle a review with the first outcome: decision or deadline",
    "subscribes": ["batch.review.settle"],
    "emits": ["batch.approved"],
    "input": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "outcome": {"type": "string", "enum": ["approved", "rejected", "expired"]},
            "reviewer": {"type": "string"},
        },
        "required": ["id", "outcome"],
    },
    "flows": ["batches"],
    # One message at a time per batch: a decision and a deadline never race.
    "infrastructure": {"queue": {"type": "fifo"}},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    batch_id: str = input_data["id"]
    batch: dict[str, Any] | None = await ctx.state.get("batches", batch_id)
    if batch is None:
        return
    if batch["status"] != "awaiting review" and batch.get("settledBy") != ctx.event_id:
        ctx.logger.info("Review already settled", {"batchId": batch_id, "status": batch["status"]})
        return
    outcome: str = input_data["outcome"]
    fields: dict[str, Any] = {"settledBy": ctx.event_id}
    if "reviewer" in input_data:
        fields["reviewer"] = input_data["reviewer"]
    await set_status(ctx, batch_id, outcome, **fields)
    if outcome == "approved":
        await ctx.emit({"topic": "batch.approved", "data": {"id": batch_id}})
    ctx.logger.info("Review settled", {"batchId": batch_id, "outcome": outcome})
