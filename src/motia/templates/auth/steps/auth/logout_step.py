"""Log out: the session of the given refresh token is revoked (every token of it)."""

from steps.lib import sessions

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "Logout",
    "description": "Revoke the session of a refresh token",
    "method": "POST",
    "path": "/auth/logout",
    "bodySchema": {
        "type": "object",
        "properties": {"refreshToken": {"type": "string", "maxLength": 4096}},
        "required": ["refreshToken"],
        "additionalProperties": False,
    },
    "emits": [],
    "flows": ["auth"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    await sessions.end(ctx, req["body"]["refreshToken"], req["auth"]["sub"])
    return {"status": 204}
