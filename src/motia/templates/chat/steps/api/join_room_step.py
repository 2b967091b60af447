"""POST /rooms/:id/join: become a member, and get a new token that names the room, so the
stream client may subscribe to it (open the stream connection again with that token)."""

from steps.lib.chat import ROOM, error, rooms_of, token_for

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "JoinRoom",
    "description": "Join a room; answers a token that lets the stream client watch it",
    "method": "POST",
    "path": "/rooms/:id/join",
    "auth": True,
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    room, user = req["pathParams"]["id"], req["auth"]["sub"]
    if not ROOM.match(room):
        return error(400, "bad_room", "a room name is 1 to 32 lower-case letters, digits or '-'")
    joined_at = ctx.utils.dates.now().isoformat()
    await ctx.state.set(f"members:{room}", user, {"user": user, "joinedAt": joined_at})
    rooms = sorted({*await rooms_of(ctx, user), room})
    await ctx.state.set("memberships", user, rooms)
    ctx.logger.info("room joined", {"room": room, "user": user})
    return {"status": 200, "body": {"room": room, "rooms": rooms, "token": token_for(user, rooms)}}
