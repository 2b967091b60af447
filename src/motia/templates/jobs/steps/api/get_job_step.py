from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetJob",
    "description": "A job's status and progress",
    "method": "GET",
    "path": "/jobs/:id",
    "emits": [],
    "flows": ["jobs"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    job = await ctx.state.get("jobs", req["pathParams"]["id"])
    if job is None:
        return {"status": 404, "body": {"error": "job not found"}}
    return {"status": 200, "body": job}
