"""Figure 16's baseline flow: one API step that emits one event."""

import uuid
from typing import Any

config = {
    "type": "api",
    "name": "Ping",
    "method": "POST",
    "path": "/ping",
    "emits": ["ping.sent"],
    "flows": ["trivial"],
}


async def handler(req: Any, ctx: Any) -> Any:
    ping_id = str(uuid.uuid4())
    await ctx.emit({"topic": "ping.sent", "data": {"id": ping_id}})
    return {"status": 202, "body": {"id": ping_id}}
