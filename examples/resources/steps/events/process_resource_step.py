from typing import Any

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "ProcessResource",
    "description": "Process a new resource and record the result",
    "subscribes": ["resource.created"],
    "emits": ["resource.processed"],
    "input": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
        },
        "required": ["id", "name"],
    },
    "flows": ["resource-processing"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    resource_id: str = input_data["id"]
    processed = {
        "id": resource_id,
        "name": input_data.get("name"),
        "processedAt": ctx.utils.dates.now().isoformat(),
    }
    await ctx.state.set(ctx.trace_id, f"processed_resource_{resource_id}", processed)
    await ctx.state.set("resources", resource_id, processed)
    await ctx.streams.resourceStatus.set(
        input_data.get("kind", "document"),
        resource_id,
        {"name": processed["name"], "status": "processed", "updatedAt": processed["processedAt"]},
    )
    await ctx.emit({"topic": "resource.processed", "data": processed})
    ctx.logger.info("Resource processed", {"resourceId": resource_id})
