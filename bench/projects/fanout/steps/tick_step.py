"""POST /tick: set one stream item; every subscriber of the group receives the update."""

import time
from typing import Any

config = {"type": "api", "name": "Tick", "method": "POST", "path": "/tick", "emits": []}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    item = {"sentAt": time.time_ns(), "n": req["body"]["n"]}
    await ctx.streams.ticker.set("room", "latest", item)
    return {"status": 200, "body": {"ok": True}}
