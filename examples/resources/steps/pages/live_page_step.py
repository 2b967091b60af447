"""GET /live: a page that watches the resourceStatus stream with the browser client."""

from pathlib import Path

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

PAGE = (Path(__file__).parent / "live.html").read_text(encoding="utf-8")

config: ApiRouteConfig = {
    "type": "api",
    "name": "LivePage",
    "description": "A browser page that shows resources changing live",
    "method": "GET",
    "path": "/live",
    "emits": [],
    "flows": ["resource-processing"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    return {"status": 200, "body": PAGE, "headers": {"content-type": "text/html; charset=utf-8"}}
