"""Figure 13: one request emits `n` events of `scale.count` (published together when the run
succeeds), so the harness can load the shared queue through any worker process."""

from typing import Any

config = {"type": "api", "name": "Burst", "method": "POST", "path": "/burst",
          "emits": ["scale.count"], "flows": ["scale"]}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    first, n = req["body"]["first"], req["body"]["n"]
    for seq in range(first, first + n):
        await ctx.emit({"topic": "scale.count", "data": {"seq": seq}})
    return {"status": 202, "body": {"emitted": n}}
