"""GET /agent: ask the agent a question and watch it plan, call tools and write the
answer token by token, with the stream client every Motia server serves at
/__motia/stream-client.js."""

from pathlib import Path

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

PAGE = (Path(__file__).parent / "agent.html").read_text(encoding="utf-8")

config: ApiRouteConfig = {
    "type": "api",
    "name": "AgentPage",
    "description": "A page that asks the agent and shows its plan, tool calls and streamed answer",
    "method": "GET",
    "path": "/agent",
    "emits": [],
    "flows": ["agent"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    return {"status": 200, "body": PAGE, "headers": {"content-type": "text/html; charset=utf-8"}}
