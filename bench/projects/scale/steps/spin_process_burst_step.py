"""Figure 13a: one request emits `n` events of `scale.spin_process`, whose subscriber runs in
the process executor."""

from typing import Any

config = {"type": "api", "name": "SpinProcessBurst", "method": "POST", "path": "/spin-process",
          "emits": ["scale.spin_process"], "flows": ["scale"]}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    first, n = req["body"]["first"], req["body"]["n"]
    for seq in range(first, first + n):
        await ctx.emit({"topic": "scale.spin_process", "data": {"seq": seq}})
    return {"status": 202, "body": {"emitted": n}}
