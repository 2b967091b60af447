from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetBatch",
    "description": "A batch's status, its checks, review and report",
    "method": "GET",
    "path": "/batches/:id",
    "emits": [],
    "flows": ["batches"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    batch = await ctx.state.get("batches", req["pathParams"]["id"])
    if batch is None:
        return {"status": 404, "body": {"error": "batch not found"}}
    summary = {k: v for k, v in batch.items() if k != "records"}
    return {"status": 200, "body": {**summary, "records": len(batch.get("records", []))}}
