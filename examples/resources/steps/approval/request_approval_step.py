"""Ask for a person's approval of each processed resource, with a deadline.

The deadline is a scheduled emit keyed by the resource id: a decision cancels it, and if
no decision comes in time it fires and the request expires. See "Waiting for an approval
or a deadline" in docs/events.md.
"""

import os
from datetime import timedelta
from typing import Any

from motia import EventConfig, FlowContext

# How long a reviewer has; short values make the expiry easy to watch in the workbench.
APPROVAL_SECONDS = float(os.environ.get("RESOURCE_APPROVAL_SECONDS", "900"))

config: EventConfig = {
    "type": "event",
    "name": "RequestApproval",
    "description": "Wait for a reviewer's decision on a processed resource, or a deadline",
    "subscribes": ["resource.processed"],
    "emits": [{"topic": "resource.approval.deadline", "label": "deadline (scheduled)"}],
    "input": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        "required": ["id"],
    },
    "flows": ["resource-processing"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    resource_id: str = input_data["id"]
    now = ctx.utils.dates.now()
    deadline = now + timedelta(seconds=APPROVAL_SECONDS)
    await ctx.state.set(
        "approvals",
        resource_id,
        {"status": "pending", "requestedAt": now.isoformat(), "deadline": deadline.isoformat()},
    )
    # Keyed by the resource: processing the same resource again replaces the deadline.
    await ctx.emit(
        {
            "topic": "resource.approval.deadline",
            "data": {"id": resource_id},
            "at": deadline,
            "key": resource_id,
        }
    )
    await ctx.streams.resourceStatus.set(
        "approvals",
        resource_id,
        {
            "name": input_data.get("name", resource_id),
            "status": "awaiting approval",
            "updatedAt": now.isoformat(),
        },
    )
    ctx.logger.info(
        "Approval requested", {"resourceId": resource_id, "deadline": deadline.isoformat()}
    )
