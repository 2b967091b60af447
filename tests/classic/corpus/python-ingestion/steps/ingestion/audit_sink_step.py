config = {
    "type": "event",
    "name": "AuditSink",
    "description": "Planned: nothing publishes to it yet",
    "subscribes": [],
    "emits": [],
}


async def handler(input, ctx):
    ctx.logger.info("audit", input)
