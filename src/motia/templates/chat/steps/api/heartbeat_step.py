"""POST /rooms/:id/presence: "I am here". The presence item expires 30 seconds after the
last heartbeat (the stream's TTL), and its watchers then receive a `delete`."""

from steps.lib.chat import error, is_member, known_room

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "Heartbeat",
    "description": "Mark the user online in a room for the next 30 seconds",
    "method": "POST",
    "path": "/rooms/:id/presence",
    "auth": True,
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    room, user = req["pathParams"]["id"], req["auth"]["sub"]
    if not known_room(room) or not await is_member(ctx, room, user):
        return error(403, "not_a_member", f"join {room} first")
    seen_at = ctx.utils.dates.now().isoformat()
    await ctx.streams.presence.set(room, user, {"user": user, "seenAt": seen_at})
    return {"status": 200, "body": {"room": room, "user": user, "seenAt": seen_at}}
