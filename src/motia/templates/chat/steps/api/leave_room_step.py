"""POST /rooms/:id/leave: stop being a member; the new token no longer names the room."""

from steps.lib.chat import error, rooms_of, token_for

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "LeaveRoom",
    "description": "Leave a room; answers a token without it",
    "method": "POST",
    "path": "/rooms/:id/leave",
    "auth": True,
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    room, user = req["pathParams"]["id"], req["auth"]["sub"]
    if await ctx.state.delete(f"members:{room}", user) is None:
        return error(404, "not_a_member", f"you are not a member of {room}")
    rooms = [r for r in await rooms_of(ctx, user) if r != room]
    await ctx.state.set("memberships", user, rooms)
    await ctx.streams.presence.delete(room, user)
    return {"status": 200, "body": {"room": room, "rooms": rooms, "token": token_for(user, rooms)}}
