from steps.lib.chunking import split_into_chunks

config = {
    "type": "event",
    "name": "ParseDocument",
    "subscribes": ["document.received"],
    "input": None,
    "emits": [
        {"topic": "document.parsed", "label": "Has text", "conditional": True},
        {"topic": "document.failed", "label": "Empty", "conditional": True},
    ],
    "flows": ["ingestion"],
}


async def handler(input, ctx):
    chunks = split_into_chunks(input.get("text", ""))
    if not chunks:
        await ctx.emit({"topic": "document.failed", "data": {"ingestionId": input["ingestionId"]}})
        return
    await ctx.emit(
        {
            "topic": "document.parsed",
            "data": {"ingestionId": input["ingestionId"], "chunks": chunks},
        }
    )
