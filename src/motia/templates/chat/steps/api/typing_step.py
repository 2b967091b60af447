"""POST /rooms/:id/typing: tell the room's watchers "ada is typing" (an ephemeral `typing`
event: delivered to who is connected now, never stored)."""

from steps.lib.chat import error, is_member, known_room

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "Typing",
    "description": "Show a typing indicator to the room",
    "method": "POST",
    "path": "/rooms/:id/typing",
    "auth": True,
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    room, user = req["pathParams"]["id"], req["auth"]["sub"]
    if not known_room(room) or not await is_member(ctx, room, user):
        return error(403, "not_a_member", f"join {room} first")
    await ctx.streams.messages.send({"groupId": room}, {"type": "typing", "data": {"user": user}})
    return {"status": 204}
