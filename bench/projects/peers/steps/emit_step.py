"""Figure 12b: one HTTP request, one durable event (published when the request succeeds)."""

from typing import Any

config = {
    "type": "api",
    "name": "EmitOne",
    "method": "POST",
    "path": "/items",
    "emits": ["bench.peer"],
    "flows": ["bench"],
}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    await ctx.emit({"topic": "bench.peer", "data": {"sent": 0.0}})
    return {"status": 202, "body": {"id": ctx.trace_id}}
