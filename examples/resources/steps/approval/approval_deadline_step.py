"""The deadline of an approval came: settle it as expired, unless a decision came first.

The scheduled deadline waits outside SettleApproval's FIFO group (a scheduled message at
the head of a group would hold the reviewer's decision back until it fired); when it
fires it joins the group here.
"""

from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "ApprovalDeadline",
    "description": "No decision in time: ask SettleApproval to expire the request",
    "subscribes": ["resource.approval.deadline"],
    "emits": ["resource.approval.settle"],
    "flows": ["resource-processing"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    resource_id: str = input_data["id"]
    await ctx.emit(
        {
            "topic": "resource.approval.settle",
            "data": {"id": resource_id, "outcome": "expired"},
            "messageGroupId": resource_id,
        }
    )
