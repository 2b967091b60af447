"""Trade a refresh token for new tokens; each refresh token works once."""

from steps.lib import sessions
from steps.lib.users import error

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "Refresh",
    "description": "Rotate a refresh token; a reused one signs the session out",
    "method": "POST",
    "path": "/auth/refresh",
    "auth": False,
    "rateLimit": {"requests": 30, "per": "1m", "by": "ip"},
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
    try:
        tokens = await sessions.rotate(ctx, req["body"]["refreshToken"])
    except sessions.SessionRefused as refused:
        return error(401, refused.code, str(refused))
    return {"status": 200, "body": tokens}
