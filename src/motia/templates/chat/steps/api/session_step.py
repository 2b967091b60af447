"""POST /session {name}: an access token for that name, naming the rooms it has joined.

There are no passwords here: anyone may take any free-form name. Put real sign-in in front
(the `auth` template) before strangers use it; the rest of the project stays the same."""

from steps.lib.chat import NAME, error, rooms_of, token_for

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "StartSession",
    "description": "An access token for a user name (for the API and the streams)",
    "method": "POST",
    "path": "/session",
    "auth": False,
    "rateLimit": {"requests": 20, "per": "1m", "by": "ip"},
    "bodySchema": {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 32}},
        "required": ["name"],
        "additionalProperties": False,
    },
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    user = req["body"]["name"].strip().lower()
    if not NAME.match(user):
        return error(400, "bad_name", "a name is 1 to 32 letters, digits, '-' or '_'")
    rooms = await rooms_of(ctx, user)
    return {"status": 200, "body": {"user": user, "rooms": rooms, "token": token_for(user, rooms)}}
