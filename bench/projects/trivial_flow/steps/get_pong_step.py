"""Figure 16's baseline flow: whether a ping has been handled."""

from typing import Any

config = {
    "type": "api",
    "name": "GetPong",
    "method": "GET",
    "path": "/pongs/:id",
    "emits": [],
    "flows": ["trivial"],
}


async def handler(req: Any, ctx: Any) -> Any:
    pong = await ctx.state.get("pongs", req["pathParams"]["id"])
    return {"status": 200 if pong else 404, "body": pong or {}}
