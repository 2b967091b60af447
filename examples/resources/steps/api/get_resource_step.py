from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetResource",
    "method": "GET",
    "path": "/resources/:id",
    "emits": [],
    "flows": ["resource-processing"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    resource = await ctx.state.get("resources", req["pathParams"]["id"])
    if resource is None:
        return {"status": 404, "body": {"error": "resource not found"}}
    approval = await ctx.state.get("approvals", req["pathParams"]["id"])
    if approval is not None:
        resource = {**resource, "approval": approval}
    return {"status": 200, "body": resource}
