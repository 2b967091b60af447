import uuid

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

from ..lib.resources import summarise

config: ApiRouteConfig = {
    "type": "api",
    "name": "CreateResource",
    "description": "Accept a resource and queue it for processing",
    "method": "POST",
    "path": "/resources",
    "bodySchema": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "kind": {"type": "string", "enum": ["document", "image", "video"]},
        },
        "required": ["name"],
    },
    "responseSchema": {
        201: {"type": "object", "properties": {"id": {"type": "string"}}},
    },
    "emits": ["resource.created"],
    "flows": ["resource-processing"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    body = req["body"]
    resource_id = str(uuid.uuid4())
    resource = {"id": resource_id, "name": body["name"], "kind": body.get("kind", "document")}
    await ctx.state.set(ctx.trace_id, "resource", resource)
    await ctx.streams.resourceStatus.set(
        resource["kind"], resource_id, {"name": resource["name"], "status": "accepted"}
    )
    await ctx.emit({"topic": "resource.created", "data": resource})
    ctx.logger.info(
        "Resource accepted", {"resourceId": resource_id, "summary": summarise(resource)}
    )
    return {"status": 201, "body": {"id": resource_id, "traceId": ctx.trace_id}}
