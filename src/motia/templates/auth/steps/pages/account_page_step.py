"""GET /account: a page to sign up, log in, see the profile, refresh and log out."""

from pathlib import Path

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

PAGE = (Path(__file__).parent / "account.html").read_text(encoding="utf-8")

config: ApiRouteConfig = {
    "type": "api",
    "name": "AccountPage",
    "description": "A browser page for signing up, logging in and out",
    "method": "GET",
    "path": "/account",
    "auth": False,
    "emits": [],
    "flows": ["auth"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    return {"status": 200, "body": PAGE, "headers": {"content-type": "text/html; charset=utf-8"}}
