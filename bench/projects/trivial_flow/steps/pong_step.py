"""Figure 16's baseline flow: the event step that records each ping."""

from typing import Any

config = {
    "type": "event",
    "name": "Pong",
    "subscribes": ["ping.sent"],
    "emits": [],
    "flows": ["trivial"],
}


async def handler(input_data: Any, ctx: Any) -> None:
    await ctx.state.set("pongs", input_data["id"], {"done": True})
