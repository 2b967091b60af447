from steps.lib.resources import summarise

config = {
    "type": "event",
    "name": "NotifyResourceProcessed",
    "subscribes": ["resource.processed"],
    "emits": [],
    "flows": ["resource-processing"],
}


async def handler(input_data, ctx):
    ctx.logger.info("Notifying owner", {"summary": summarise(input_data)})
