"""GET /chat: the chat in a browser page, with the stream client that every Motia server
serves at /__motia/stream-client.js. Open it twice (`/chat?name=ada`, `/chat?name=bob`)."""

from pathlib import Path

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

PAGE = (Path(__file__).parent / "chat.html").read_text(encoding="utf-8")

config: ApiRouteConfig = {
    "type": "api",
    "name": "ChatPage",
    "description": "A browser page to chat in rooms and DMs, live",
    "method": "GET",
    "path": "/chat",
    "auth": False,
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    return {"status": 200, "body": PAGE, "headers": {"content-type": "text/html; charset=utf-8"}}
