"""Python API step: reads what the TypeScript step published to the stream."""

config = {
    "type": "api",
    "name": "GetDocument",
    "description": "The live status of a document",
    "method": "GET",
    "path": "/documents/:id",
    "emits": [],
    "flows": ["documents"],
}


async def handler(req, ctx):
    status = await ctx.streams["document-status"].get("documents", req["pathParams"]["id"])
    if status is None:
        return {"status": 404, "body": {"error": "no such document (yet)"}}
    return {"status": 200, "body": status}
