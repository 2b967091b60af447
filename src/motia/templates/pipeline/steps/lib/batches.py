"""What the batch steps share: the checks every batch goes through, and its status."""

from typing import Any

# The fan-out: one step per check, all subscribed to `batch.submitted`. The fan-in
# (JoinChecks) waits for exactly these names.
CHECKS = ("schema", "duplicates", "limits")

# A batch whose records add up to more than this waits for a reviewer.
REVIEW_THRESHOLD = 10_000.0
# A single record above this fails the `limits` check.
RECORD_LIMIT = 5_000.0


async def set_status(ctx: Any, batch_id: str, status: str, **fields: Any) -> dict[str, Any]:
    """Record the batch's new status in state and push it to the `batchStatus` stream."""
    batch: dict[str, Any] = await ctx.state.get("batches", batch_id) or {"id": batch_id}
    now = ctx.utils.dates.now().isoformat()
    batch = {**batch, **fields, "status": status, "updatedAt": now}
    await ctx.state.set("batches", batch_id, batch)
    await ctx.streams.batchStatus.set(
        "batches", batch_id, {"status": status, "updatedAt": now, **_public(fields)}
    )
    return batch


def _public(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k in ("problems", "reviewer", "report")}
