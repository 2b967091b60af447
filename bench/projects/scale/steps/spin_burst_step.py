"""Figure 13a: one request emits `n` events of `scale.spin`, each a fixed amount of CPU work."""

from typing import Any

config = {"type": "api", "name": "SpinBurst", "method": "POST", "path": "/spin",
          "emits": ["scale.spin"], "flows": ["scale"]}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    first, n = req["body"]["first"], req["body"]["n"]
    for seq in range(first, first + n):
        await ctx.emit({"topic": "scale.spin", "data": {"seq": seq}})
    return {"status": 202, "body": {"emitted": n}}
