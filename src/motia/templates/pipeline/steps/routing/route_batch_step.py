"""Conditional routing: a checked batch is rejected, sent to a reviewer, or approved.

Rules: any failed check rejects it; a total above REVIEW_THRESHOLD needs a person, who
has until a deadline (a scheduled emit keyed by the batch) to decide; anything else is
approved at once.
"""

import os
from datetime import timedelta
from typing import Any

from steps.lib.batches import REVIEW_THRESHOLD, set_status

from motia import EventConfig, FlowContext

# How long a reviewer has; short values make the expiry easy to watch in the workbench.
REVIEW_SECONDS = float(os.environ.get("BATCH_REVIEW_SECONDS", "3600"))

config: EventConfig = {
    "type": "event",
    "name": "RouteBatch",
    "description": "Reject, send to review, or approve a checked batch",
    "subscribes": ["batch.checked"],
    "emits": [
        {"topic": "batch.approved", "label": "no review needed"},
        {"topic": "batch.review.deadline", "label": "review deadline (scheduled)"},
    ],
    "virtualEmits": [{"topic": "batch.review.requested", "label": "needs a reviewer"}],
    "input": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "problems": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["id", "problems"],
    },
    "flows": ["batches"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    batch_id: str = input_data["id"]
    batch: dict[str, Any] | None = await ctx.state.get("batches", batch_id)
    if batch is None:
        ctx.logger.warn("Checked batch not found", {"batchId": batch_id})
        return
    # Routed already, by another message (a duplicate): stop. A retry of the message
    # that routed it emits again, since its emits were never committed.
    if batch["status"] != "checking" and batch.get("routedBy") != ctx.event_id:
        return
    problems: list[str] = input_data["problems"]
    if problems:
        await set_status(ctx, batch_id, "rejected", problems=problems, routedBy=ctx.event_id)
        ctx.logger.info("Batch rejected by its checks", {"batchId": batch_id})
        return
    total = sum(record["amount"] for record in batch["records"])
    if total <= REVIEW_THRESHOLD:
        await set_status(ctx, batch_id, "approved", total=total, routedBy=ctx.event_id)
        await ctx.emit({"topic": "batch.approved", "data": {"id": batch_id}})
        return
    deadline = ctx.utils.dates.now() + timedelta(seconds=REVIEW_SECONDS)
    await set_status(
        ctx,
        batch_id,
        "awaiting review",
        total=total,
        deadline=deadline.isoformat(),
        routedBy=ctx.event_id,
    )
    # Keyed by the batch, so the reviewer's decision can cancel it.
    await ctx.emit(
        {
            "topic": "batch.review.deadline",
            "data": {"id": batch_id},
            "at": deadline,
            "key": batch_id,
        }
    )
    ctx.logger.info("Batch waits for a reviewer", {"batchId": batch_id, "total": total})
