"""POST /rooms/:id/messages {text}: keep the message in the room's history (state), then
deliver it to everyone watching the room (a `message` event on the `messages` stream).
In a DM, the other user's inbox also hears of it, so their page can open the DM."""

from steps.lib.chat import dm_pair, error, is_member, known_room, message_id

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "PostMessage",
    "description": "Post a message to a room or a DM",
    "method": "POST",
    "path": "/rooms/:id/messages",
    "auth": True,
    "bodySchema": {
        "type": "object",
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4000}},
        "required": ["text"],
        "additionalProperties": False,
    },
    "emits": [],
    "flows": ["chat"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    room, user = req["pathParams"]["id"], req["auth"]["sub"]
    if not known_room(room) or not await is_member(ctx, room, user):
        return error(403, "not_a_member", f"join {room} before posting to it")
    message = {
        "id": message_id(ctx),
        "room": room,
        "author": user,
        "text": req["body"]["text"],
        "sentAt": ctx.utils.dates.now().isoformat(),
    }
    # History first: a client that catches up after this answer finds the message.
    await ctx.state.set(f"history:{room}", message["id"], message)
    await ctx.streams.messages.send({"groupId": room}, {"type": "message", "data": message})
    pair = dm_pair(room)
    if pair is not None:
        other = pair[1] if pair[0] == user else pair[0]
        notice = {"type": "dm", "data": {"room": room, "from": user}}
        await ctx.streams.messages.send({"groupId": f"inbox.{other}"}, notice)
    return {"status": 201, "body": message}
