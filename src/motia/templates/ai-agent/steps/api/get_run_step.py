from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetRun",
    "description": "A run's status, plan, tool calls and answer",
    "method": "GET",
    "path": "/agent/runs/:id",
    "emits": [],
    "flows": ["agent"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    run = await ctx.state.get("runs", req["pathParams"]["id"])
    if run is None:
        return {"status": 404, "body": {"error": "run not found"}}
    return {"status": 200, "body": {k: v for k, v in run.items() if k != "handoffBy"}}
