"""A protected route: the signed-in user's profile (`Authorization: Bearer <token>`)."""

from typing import Any

from steps.lib.users import error, profile_key, public

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "Me",
    "description": "The profile of the token's user",
    "method": "GET",
    "path": "/me",
    "auth": {"scopes": ["profile:read"]},
    "emits": [],
    "flows": ["auth"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    user: dict[str, Any] | None = await ctx.state.get("users", profile_key(req["auth"]["sub"]))
    if user is None:
        return error(404, "no_user", "this account no longer exists")
    return {"status": 200, "body": public(user)}
