"""Figure 9 (events): one request emits `n` events of `bench.count` (published together
when the run succeeds), so the harness can load the shared queue through any worker."""

from typing import Any

config = {
    "type": "api",
    "name": "Burst",
    "method": "POST",
    "path": "/burst",
    "emits": ["bench.count"],
    "flows": ["bench"],
}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    first, n = req["body"]["first"], req["body"]["n"]
    for seq in range(first, first + n):
        await ctx.emit({"topic": "bench.count", "data": {"seq": seq}})
    return {"status": 202, "body": {"emitted": n}}
