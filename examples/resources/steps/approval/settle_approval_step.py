"""Settle an approval once: the first of the reviewer's decision and the deadline wins."""

from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "SettleApproval",
    "description": "Record the outcome of an approval: approved, rejected or expired",
    "subscribes": ["resource.approval.settle"],
    "emits": [],
    "input": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "outcome": {"type": "string", "enum": ["approved", "rejected", "expired"]},
            "reviewer": {"type": "string"},
        },
        "required": ["id", "outcome"],
    },
    "flows": ["resource-processing"],
    # One message at a time per resource: a decision and a deadline never race.
    "infrastructure": {"queue": {"type": "fifo"}},
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    resource_id: str = input_data["id"]
    outcome: str = input_data["outcome"]
    approval: dict[str, Any] | None = await ctx.state.get("approvals", resource_id)
    # Settled by another message: stop. A retry of the message that settled it carries on,
    # since state writes take effect at once but what follows them may not have happened.
    if approval is None or (
        approval["status"] != "pending" and approval.get("settledBy") != ctx.event_id
    ):
        status = approval and approval["status"]
        ctx.logger.info("Approval already settled", {"resourceId": resource_id, "status": status})
        return
    settled_at = ctx.utils.dates.now().isoformat()
    settled = {**approval, "status": outcome, "settledAt": settled_at, "settledBy": ctx.event_id}
    if "reviewer" in input_data:
        settled["reviewer"] = input_data["reviewer"]
    await ctx.state.set("approvals", resource_id, settled)
    resource = await ctx.state.get("resources", resource_id) or {}
    await ctx.streams.resourceStatus.set(
        "approvals",
        resource_id,
        {"name": resource.get("name", resource_id), "status": outcome, "updatedAt": settled_at},
    )
    ctx.logger.info("Approval settled", {"resourceId": resource_id, "outcome": outcome})
