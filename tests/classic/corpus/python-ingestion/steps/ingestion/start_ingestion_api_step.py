import uuid

from ..lib.chunking import split_into_chunks

served = 0  # module state: survives as long as the process does not reload this file


async def require_api_key(req, ctx, next_fn):
    if req.get("headers", {}).get("x-api-key") != "corpus-key":
        return {"status": 401, "body": {"error": "missing api key"}}
    req["ingestionSource"] = "api"
    return await next_fn()


config = {
    "type": "api",
    "name": "StartIngestion",
    "path": "/ingest",
    "method": "POST",
    "middleware": [require_api_key],
    "bodySchema": {
        "type": "object",
        "properties": {"title": {"type": "string"}, "text": {"type": "string"}},
        "required": ["title", "text"],
    },
    "emits": ["document.received"],
    "virtualEmits": [{"topic": "ops.notified", "label": "Ops are told"}],
    "flows": ["ingestion"],
}


async def handler(req, ctx):
    global served
    served += 1
    ingestion_id = str(uuid.uuid4())
    await ctx.state.set(
        "ingestion", ingestion_id, {"status": "received", "source": req["ingestionSource"]}
    )
    await ctx.emit(
        {
            "topic": "document.received",
            "data": {
                "ingestionId": ingestion_id,
                "title": req["body"]["title"],
                "text": req["body"]["text"],
            },
        }
    )
    estimate = len(split_into_chunks(req["body"]["text"]))
    return {
        "status": 202,
        "body": {
            "ingestionId": ingestion_id,
            "status": "received",
            "served": served,
            "estimatedChunks": estimate,
        },
    }
