"""A reviewer approves or rejects a batch: `POST /batches/{id}/review`."""

from typing import Any

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "ReviewBatch",
    "description": "Record a reviewer's decision; the first of decision and deadline wins",
    "method": "POST",
    "path": "/batches/:id/review",
    "bodySchema": {
        "type": "object",
        "properties": {
            "approved": {"type": "boolean"},
            "reviewer": {"type": "string", "minLength": 1},
        },
        "required": ["approved", "reviewer"],
        "additionalProperties": False,
    },
    "virtualSubscribes": ["batch.review.requested"],
    "emits": ["batch.review.settle"],
    "flows": ["batches"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    batch_id = req["pathParams"]["id"]
    batch: dict[str, Any] | None = await ctx.state.get("batches", batch_id)
    if batch is None:
        return {"status": 404, "body": {"error": "batch not found"}}
    if batch["status"] != "awaiting review":
        return {"status": 409, "body": {"error": f"batch is {batch['status']}, not in review"}}
    outcome = "approved" if req["body"]["approved"] else "rejected"
    # SettleReview takes decisions and deadlines one at a time per batch (a FIFO group):
    # whichever comes first settles it, the other finds it settled.
    await ctx.emit(
        {
            "topic": "batch.review.settle",
            "data": {"id": batch_id, "outcome": outcome, "reviewer": req["body"]["reviewer"]},
            "messageGroupId": batch_id,
        }
    )
    await ctx.cancel(key=batch_id, topic="batch.review.deadline")
    return {"status": 202, "body": {"id": batch_id, "outcome": outcome}}
