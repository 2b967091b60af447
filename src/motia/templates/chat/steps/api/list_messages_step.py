"""GET /rooms/:id/messages: a page of the room's history, oldest first.

- `?limit=` (1 to 100, default 50) messages;
- `?before=<id>`: the newest ones older than that message (scrolling back); without a
  cursor, the newest ones. `older` is the cursor of the page before, or null at the start;
- `?after=<id>`: the oldest ones newer than that message (catching up after a reconnect).
  `newer` is the cursor to ask again with, or null when nothing newer is left."""

from typing import Any

from steps.lib.chat import error, is_member, known_room

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "ListMessages",
    "description": "A page of a room's history (cursor: a message id)",
    "method": "GET",
    "path": "/rooms/:id/messages",
    "auth": True,
    "queryParams": [
        {"name": "before", "description": "newest messages older than this message id"},
        {"name": "after", "description": "oldest messages newer than this message id"},
        {"name": "limit", "description": "how many, 1 to 100 (default 50)"},
    ],
    "emits": [],
    "flows": ["chat"],
}


def _one(value: str | list[str] | None) -> str | None:
    return value[-1] if isinstance(value, list) else value


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    room, user = req["pathParams"]["id"], req["auth"]["sub"]
    if not known_room(room) or not await is_member(ctx, room, user):
        return error(403, "not_a_member", f"join {room} before reading it")
    query = req["queryParams"]
    before, after = _one(query.get("before")), _one(query.get("after"))
    limit_text = _one(query.get("limit"))
    if limit_text is not None and not (limit_text.isdigit() and 1 <= int(limit_text) <= 100):
        return error(400, "bad_limit", "limit is a whole number from 1 to 100")
    limit = int(limit_text or 50)
    history: list[dict[str, Any]] = await ctx.state.get_group(f"history:{room}")
    history.sort(key=lambda message: str(message["id"]))
    if after is not None:
        newer = [m for m in history if m["id"] > after]
        page = newer[:limit]
        more = len(newer) > limit
        body = {"messages": page, "older": None, "newer": page[-1]["id"] if more else None}
    else:
        older = [m for m in history if before is None or m["id"] < before]
        page = older[-limit:]
        more = len(older) > limit
        body = {"messages": page, "older": page[0]["id"] if more else None, "newer": None}
    return {"status": 200, "body": body}
