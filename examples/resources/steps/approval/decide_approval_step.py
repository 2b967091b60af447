"""A reviewer approves or rejects a resource: `POST /resources/{id}/approval`."""

from typing import Any

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "DecideApproval",
    "description": "Record a reviewer's decision; the first of decision and deadline wins",
    "method": "POST",
    "path": "/resources/:id/approval",
    "bodySchema": {
        "type": "object",
        "properties": {
            "approved": {"type": "boolean"},
            "reviewer": {"type": "string", "minLength": 1},
        },
        "required": ["approved", "reviewer"],
        "additionalProperties": False,
    },
    # The person of HumanReview calls this endpoint: drawn as an edge in the workbench.
    "virtualSubscribes": ["resource.approved"],
    "emits": ["resource.approval.settle"],
    "flows": ["resource-processing"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    resource_id = req["pathParams"]["id"]
    approval: dict[str, Any] | None = await ctx.state.get("approvals", resource_id)
    if approval is None:
        return {"status": 404, "body": {"error": "no approval was requested for this resource"}}
    if approval["status"] != "pending":
        return {"status": 409, "body": {"error": f"already {approval['status']}"}}
    body = req["body"]
    outcome = "approved" if body["approved"] else "rejected"
    # SettleApproval takes decisions and deadlines one at a time per resource (a FIFO
    # group), so whichever comes first settles it and the other finds it settled.
    await ctx.emit(
        {
            "topic": "resource.approval.settle",
            "data": {"id": resource_id, "outcome": outcome, "reviewer": body["reviewer"]},
            "messageGroupId": resource_id,
        }
    )
    await ctx.cancel(key=resource_id, topic="resource.approval.deadline")
    return {"status": 202, "body": {"id": resource_id, "outcome": outcome}}
