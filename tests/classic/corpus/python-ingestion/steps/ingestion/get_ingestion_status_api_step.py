config = {
    "type": "api",
    "name": "GetIngestionStatus",
    "path": "/ingest/:ingestion_id",
    "method": "GET",
    "emits": [],
    "flows": ["ingestion"],
}


async def handler(req, ctx):
    ingestion_id = req["pathParams"]["ingestion_id"]
    record = await ctx.state.get("ingestion", ingestion_id)
    if isinstance(record, dict):
        record = record.get("data", record)
    if not record:
        return {"status": 404, "body": {"error": f"no ingestion {ingestion_id}"}}
    return {
        "status": 200,
        "body": {
            "ingestionId": ingestion_id,
            "status": record["status"],
            "chunks": record.get("chunks", 0),
        },
    }
