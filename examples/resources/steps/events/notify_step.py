from typing import Any

from steps.lib.resources import summarise

from motia import EventConfig, FlowContext

config: EventConfig = {
    "type": "event",
    "name": "NotifyResourceProcessed",
    "subscribes": ["resource.processed"],
    "emits": [],
    "flows": ["resource-processing"],
}


async def handler(input_data: dict[str, Any], ctx: FlowContext) -> None:
    ctx.logger.info("Notifying owner", {"summary": summarise(input_data)})
