"""POST /dms/:user: the DM room between the caller and `user`. Its name is derived from
the two names, so it needs no joining and no new token: the token's `sub` is enough."""

from steps.lib.chat import NAME, dm_room, error

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "OpenDirectMessage",
    "description": "The room of the direct messages between the caller and another user",
    "method": "POST",
    "path": "/dms/:user",
    "auth": True,
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    other, user = req["pathParams"]["user"].lower(), req["auth"]["sub"]
    if not NAME.match(other) or other == user:
        return error(400, "bad_name", "name another user (letters, digits, '-' or '_')")
    return {"status": 200, "body": {"room": dm_room(user, other), "with": other}}
