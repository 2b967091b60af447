"""GET /hello?name=Ada -> {"message": "Hello, Ada!"}"""

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "Hello",
    "description": "Say hello",
    "method": "GET",
    "path": "/hello",
    "queryParams": [{"name": "name", "description": "Who to greet"}],
    "responseSchema": {
        200: {
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"],
        }
    },
    "emits": [],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    name = req["queryParams"].get("name") or "world"
    if isinstance(name, list):  # ?name=a&name=b
        name = ", ".join(name)
    ctx.logger.info("Saying hello", {"name": name})
    return {"status": 200, "body": {"message": f"Hello, {name}!"}}
