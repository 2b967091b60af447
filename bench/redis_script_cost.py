"""Redis server time of the queue's `WRITE` script per call, for the calls of figure 12's
path: a publish taken by the publisher's idle worker (`publish_taking`, one message), its
completion, and a plain publish. Read from Redis's own `INFO commandstats` (the
microseconds Redis spent in `EVALSHA`), so the client's CPU and the network do not count;
each kind of call runs `--calls` times after a warm-up, alone on its own key prefix.

    PYTHONPATH=src python bench/redis_script_cost.py
    PYTHONPATH=src python bench/redis_script_cost.py --compare-src /tmp/before/src

With `--compare-src` the same runs are made in a child with that copy of the package's
source, alternating round by round; the figure per kind is the median of `--rounds`.
The keys are deleted afterwards. Needs a Redis server (`--redis-url`, default
`$MOTIA_BENCH_REDIS_URL` or `redis://127.0.0.1:6379/0`) that nothing else loads.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

KINDS = ("take", "complete", "publish")
DEFAULT_URL = os.environ.get("MOTIA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _evalsha(client: Any) -> tuple[int, int]:
    stats = await client.info("commandstats")
    entry = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    return int(entry["calls"]), int(entry["usec"])


async def _measure(url: str, calls: int) -> dict[str, float]:
    """Server microseconds per `EVALSHA` of each kind, in this process's copy of Motia."""
    from redis.asyncio import Redis

    from motia.adapters.queue.base import OutgoingMessage
    from motia.adapters.redis.queue import RedisQueueAdapter
    from motia.clock import new_message_id, new_trace_id

    client = Redis.from_url(url)
    prefix = f"motia_bench_script_{os.getpid()}_{time.time_ns()}"
    queue = RedisQueueAdapter(client, prefix)

    def message() -> OutgoingMessage:
        return OutgoingMessage(
            id=new_message_id(), event_id=new_message_id(), subscriber="Sub", topic="bench",
            data={"sent": 1.0}, trace_id=new_trace_id(), flows=["bench"],
        )

    async def take() -> Any:
        sent = message()
        [delivery] = await queue.publish_taking([sent], {sent.id}, "tok", time.time() + 60)
        return delivery

    costs: dict[str, float] = {}
    try:
        for _ in range(200):  # scripts loaded, keys and code warm
            await queue.complete(await take(), [])
        taken = []
        before = await _evalsha(client)
        for _ in range(calls):
            taken.append(await take())
        after = await _evalsha(client)
        costs["take"] = (after[1] - before[1]) / (after[0] - before[0])
        before = after
        for delivery in taken:
            await queue.complete(delivery, [])
        after = await _evalsha(client)
        costs["complete"] = (after[1] - before[1]) / (after[0] - before[0])
        before = after
        for _ in range(calls):
            await queue.publish([message()])
        after = await _evalsha(client)
        costs["publish"] = (after[1] - before[1]) / (after[0] - before[0])
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start : start + 500])
        await client.aclose()
    return costs


def _child(src: Path, url: str, calls: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    argv = [sys.executable, __file__, "--child", "--redis-url", url, "--calls", str(calls)]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"run from {src} failed:\n{out.stderr[-2000:]}")
    costs: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=DEFAULT_URL)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="also run this copy of the package's source, alternating")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import uvloop

        print(json.dumps(uvloop.run(_measure(args.redis_url, args.calls))))
        return
    here = Path(__file__).resolve().parent.parent / "src"
    sources = {"this": here, **({"compare": args.compare_src} if args.compare_src else {})}
    results: dict[str, dict[str, list[float]]] = {
        name: {kind: [] for kind in KINDS} for name in sources
    }
    for round_no in range(args.rounds):
        for name, src in sources.items():
            costs = _child(src, args.redis_url, args.calls)
            for kind in KINDS:
                results[name][kind].append(costs[kind])
            shown = "  ".join(f"{kind} {costs[kind]:6.1f}" for kind in KINDS)
            print(f"round {round_no + 1} {name:8s} {shown}  us per EVALSHA", flush=True)
    for name, src in sources.items():
        shown = "  ".join(
            f"{kind} {statistics.median(results[name][kind]):6.1f}" for kind in KINDS
        )
        print(f"{name:8s} median  {shown}  us per EVALSHA ({src})")


if __name__ == "__main__":
    main()
