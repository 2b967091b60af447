"""GET /live: a page that shows the jobProgress stream changing, with the stream client
that every Motia server serves at /__motia/stream-client.js."""

from pathlib import Path

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

PAGE = (Path(__file__).parent / "live.html").read_text(encoding="utf-8")

config: ApiRouteConfig = {
    "type": "api",
    "name": "LivePage",
    "description": "A browser page that shows jobs progress live",
    "method": "GET",
    "path": "/live",
    "emits": [],
    "flows": ["jobs"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    return {"status": 200, "body": PAGE, "headers": {"content-type": "text/html; charset=utf-8"}}
