"""No decision by the deadline: ask SettleReview to expire the batch.

The deadline waits outside SettleReview's FIFO group (a scheduled message at the head of
a group would hold the reviewer's decision back until it fired); it joins the group here.
"""

from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "ReviewDeadline",
    "description": "The review deadline passed: expire the batch unless it was decided",
    "subscribes": ["batch.review.deadline"],
    "emits": ["batch.review.settle"],
    "flows": ["batches"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    await ctx.emit(
        {
            "topic": "batch.review.settle",
            "data": {"id": input_data["id"], "outcome": "expired"},
            "messageGroupId": input_data["id"],
        }
    )
