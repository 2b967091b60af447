"""GET /rooms/:id: a room's members and who is online (open: no token needed)."""

from typing import Any

from steps.lib.chat import error

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "GetRoom",
    "description": "A room's members and who is online now",
    "method": "GET",
    "path": "/rooms/:id",
    "auth": False,
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    room = req["pathParams"]["id"]
    members: list[dict[str, Any]] = await ctx.state.get_group(f"members:{room}")
    if not members:
        return error(404, "no_room", "room not found")
    online: list[dict[str, Any]] = await ctx.streams.presence.get_group(room)
    return {
        "status": 200,
        "body": {
            "room": room,
            "members": sorted(m["user"] for m in members),
            "online": sorted(p["user"] for p in online),
        },
    }
