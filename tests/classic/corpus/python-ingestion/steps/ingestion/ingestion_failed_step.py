config = {
    "type": "event",
    "name": "IngestionFailed",
    "subscribes": ["document.failed"],
    "emits": [],
    "flows": ["ingestion"],
}


async def handler(input, ctx):
    await ctx.state.set("ingestion", input["ingestionId"], {"status": "failed", "chunks": 0})
    ctx.logger.warn("Ingestion failed", {"ingestionId": input["ingestionId"]})
