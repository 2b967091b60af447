"""A full disk under a real `motia start` on SQLite: the database lives on a 24 MB tmpfs
that the test fills. Requests are answered at once (503 with a trace id when their writes
cannot be kept), readiness reports the disk, messages accepted earlier keep counting their
attempts with backoff instead of re-running in a loop, and once space returns everything
accepted completes and new requests succeed."""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile.support import fill, free_bytes, reserve, small_disk

PROJECT: dict[str, str] = {
    "config.yml": """
        queue:
          leaseSeconds: 1
    """,
    "steps/__init__.py": "",
    "steps/create_order_step.py": """
        config = {
            "type": "api", "name": "CreateOrder", "method": "POST", "path": "/orders",
            "emits": ["order.created"], "flows": ["orders"],
        }
        async def handler(req, ctx):
            order = req["body"]
            await ctx.state.set("orders", order["id"], order)
            event = {"id": order["id"], "label": order.get("label", 100)}
            await ctx.emit({"topic": "order.created", "data": event})
            return {"status": 201, "body": {"id": order["id"]}}
    """,
    "steps/ship_step.py": """
        import os
        from pathlib import Path
        RUNS = Path(os.environ["RUNS_LOG"])
        config = {
            "type": "event", "name": "Ship", "subscribes": ["order.created"],
            "flows": ["orders"],
            "infrastructure": {
                "queue": {"maxRetries": 100, "concurrency": 4, "delaySeconds": 2}
            },
        }
        async def handler(data, ctx):
            with RUNS.open("a") as f:  # outside the full disk: every run is seen
                f.write(f"{data['id']} {ctx.attempt}\\n")
            await ctx.state.set("labels", data["id"], {"label": "x" * data["label"]})
            await ctx.state.set("shipped", data["id"], {"id": data["id"]})
    """,
    "steps/shipped_step.py": """
        config = {"type": "api", "name": "Shipped", "method": "GET", "path": "/shipped",
                  "flows": ["orders"]}
        async def handler(req, ctx):
            done = await ctx.state.get_group("shipped")
            return {"status": 200, "body": {"ids": [d["id"] for d in done]}}
    """,
}


def runs(log: Path) -> list[tuple[str, int]]:
    if not log.exists():
        return []
    pairs = (line.split() for line in log.read_text().splitlines())
    return [(p[0], int(p[1])) for p in pairs if len(p) == 2]


def shipped(server: ServerProcess) -> set[str]:
    response = server.client.get("/shipped")
    return set(response.json()["ids"]) if response.status_code == 200 else set()


def test_a_full_disk_fails_fast_backs_off_and_recovers_without_losing_anything(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    runs_log = tmp_path / "runs.log"
    with small_disk(tmp_path / "disk", "24m") as disk:
        server = server_factory(
            project, env={"MOTIA_DATA_DIR": str(disk / "data"), "RUNS_LOG": str(runs_log)}
        )
        reserve(disk)
        accepted: list[str] = []
        for i in range(5):
            response = server.client.post("/orders", json={"id": f"early-{i}", "pad": "."})
            assert response.status_code == 201, response.text
            accepted.append(f"early-{i}")
        wait_for(lambda: shipped(server) >= set(accepted), timeout=20)

        # Accepted just before the disk fills; they become visible while it is full.
        for i in range(5):
            response = server.client.post(
                "/orders", json={"id": f"pending-{i}", "pad": ".", "label": 1_000_000}
            )
            assert response.status_code == 201, response.text
            accepted.append(f"pending-{i}")
        before = {p.name: p.stat().st_size for p in (disk / "data").iterdir()}
        filler = fill(disk)
        assert free_bytes(disk) < 65536
        assert filler.stat().st_size > 512 * 1024, f"the disk was full already: {before}"
        # Orders keep coming; each is answered at once: kept (201) or refused (503).
        refused: list[httpx.Response] = []
        slowest = 0.0
        for i in range(200):
            order = f"full-{i:03d}"
            sent = time.monotonic()
            response = server.client.post(
                "/orders", json={"id": order, "pad": "p" * 100_000}, timeout=10
            )
            slowest = max(slowest, time.monotonic() - sent)
            assert response.status_code in (201, 503), response.text
            if response.status_code == 201:
                accepted.append(order)
            else:
                refused.append(response)
                if len(refused) >= 5:
                    break
        assert len(refused) >= 5, "the full disk never refused a write"
        for response in refused:
            body = response.json()
            assert body["error"].startswith("Service unavailable")
            assert body["traceId"] == response.headers["x-trace-id"]
            assert response.headers["retry-after"] == "5"

        health = server.client.get("/__motia/ready")
        assert health.status_code == 503, health.text
        assert "the disk is full" in health.json()["problem"]
        assert str(disk / "data" / "motia.db") in health.json()["problem"]

        # Nearly full: small writes (leases, retries) fit, a shipping label does not. Runs
        # of the messages accepted earlier: each is a new, counted attempt (the counter
        # moves), and backoff keeps them few.
        os.truncate(filler, filler.stat().st_size - 512 * 1024)
        window_start = len(runs(runs_log))
        time.sleep(6)
        window = runs(runs_log)[window_start:]
        attempts: dict[str, list[int]] = defaultdict(list)
        for order, attempt in runs(runs_log):
            attempts[order].append(attempt)
        for order, seen in attempts.items():
            assert seen == sorted(set(seen)), f"{order} ran twice with one attempt: {seen}"
        per_order = defaultdict(int)
        for order, _ in window:
            per_order[order] += 1
        assert max(per_order.values(), default=0) <= 8, per_order
        assert any(attempt >= 2 for _, attempt in window), f"no attempt was counted: {window}"

        filler.unlink()  # space returns
        freed = time.monotonic()
        wait_for(lambda: server.client.get("/__motia/ready").status_code == 200, timeout=30)
        ready_after = time.monotonic() - freed
        wait_for(lambda: shipped(server) >= set(accepted), timeout=60)
        print(
            f"disk full: {len(accepted)} orders accepted, {len(refused)} refused with 503, "
            f"slowest answer {slowest * 1000:.0f} ms; in 6 s nearly full: {len(window)} runs, "
            f"attempts {dict(attempts)}; ready {ready_after:.1f} s after space returned, every "
            f"accepted order shipped {time.monotonic() - freed:.1f} s after"
        )
        response = server.client.post("/orders", json={"id": "after", "pad": "p" * 100_000})
        assert response.status_code == 201, response.text
        wait_for(lambda: "after" in shipped(server), timeout=20)

        output = server.output()
        # Every line is a JSON log record: nothing escaped as a raw traceback.
        records = [json.loads(line) for line in output.splitlines() if line.strip()]
        assert any("the disk is full" in json.dumps(r) for r in records)
        server.stop()
