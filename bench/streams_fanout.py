"""Stream fan-out: latency from `ctx.streams.<name>.set` in a handler to receipt by each of
100 WebSocket clients, and updates delivered per second, against a bare Starlette
WebSocket broadcast measured in the same run.

    .venv/bin/python bench/streams_fanout.py [--clients 100] [--updates 300] [--rounds 5]
        [--client-processes 2] [--python-clients]

Each round measures both servers, one after the other, the first alternating between
rounds; the figures are the medians over the rounds, as the machine is shared and noisy.
The clients run in Node by default (bench/fanout_clients.mjs, with the `ws` package that
tests/streams/client installs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets
from procs import free_port

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
PYTHON = sys.executable
# Seconds between updates in the latency run: 50 updates/s to 100 clients is 5,000
# deliveries/s, about half of what either server sustains on this machine.
PACE = 0.02


def start(kind: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    if kind == "motia":
        command = [PYTHON, "-m", "motia", "start", "--dir", str(ROOT / "projects" / "fanout")]
        command += ["--port", str(port)]
    else:
        # The same wire as Motia's stream socket: no per-connection compression.
        command = [PYTHON, "-m", "uvicorn", "ws_broadcast_app:app", "--port", str(port)]
        command += ["--log-level", "warning", "--app-dir", str(ROOT / "baseline")]
        command += ["--ws-per-message-deflate", "false"]
    env = {**os.environ, "MOTIA_DATA_DIR": data_dir}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 20
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                await client.post(f"http://127.0.0.1:{port}/tick", json={"n": -1})
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


async def measure(port: int, clients: int, updates: int) -> dict[str, float]:
    latencies: list[float] = []
    received = [0]
    join = {
        "type": "join",
        "data": {"streamName": "ticker", "groupId": "room", "subscriptionId": "s"},
    }

    async def client(ready: asyncio.Event, joined: list[int]) -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/", max_queue=None) as ws:
            await ws.send(json.dumps(join))
            await ws.recv()  # the sync snapshot
            joined[0] += 1
            if joined[0] == clients:
                ready.set()
            while True:
                frame = json.loads(await ws.recv())
                data = frame["event"].get("data") or {}
                if frame["event"]["type"] in ("create", "update") and data.get("n", -1) >= 0:
                    latencies.append((time.time_ns() - data["sentAt"]) / 1e6)
                    received[0] += 1
                    if data["n"] == updates - 1:
                        return  # this client has seen the last update

    ready = asyncio.Event()
    joined = [0]
    tasks = [asyncio.create_task(client(ready, joined)) for _ in range(clients)]
    await asyncio.wait_for(ready.wait(), 30)
    async with httpx.AsyncClient() as http:
        started = time.perf_counter()
        for n in range(updates):
            await http.post(f"http://127.0.0.1:{port}/tick", json={"n": n})
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), 60)
        except TimeoutError:
            for task in tasks:
                task.cancel()
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1],
        "deliveries_per_s": received[0] / elapsed,
        "delivered": received[0],
        "expected": clients * updates,
    }


async def measure_with_node(
    port: int, clients: int, updates: int, processes: int
) -> dict[str, float]:
    """The same measurement with the clients in Node (the `ws` package), so the load
    generator's own decoding does not dominate the latency; `processes` splits them."""
    script = ROOT / "fanout_clients.mjs"
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    nodes = [
        await asyncio.create_subprocess_exec(
            "node",
            str(script),
            str(port),
            str(share),
            str(updates),
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,
        )
        for share in shares
    ]
    for process in nodes:
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert ready.get("ready")
    async with httpx.AsyncClient() as http:
        started = time.perf_counter()
        for n in range(updates):
            await http.post(f"http://127.0.0.1:{port}/tick", json={"n": n})
            await asyncio.sleep(PACE)  # latency at a steady rate, not under saturation
        latencies: list[float] = []
        for process in nodes:
            assert process.stdout is not None
            result = json.loads(await asyncio.wait_for(process.stdout.readline(), 70))
            latencies += result["latencies"]
        elapsed = time.perf_counter() - started
    for process in nodes:
        await process.wait()
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1],
        "deliveries_per_s": len(ordered) / (elapsed - PACE * updates),
        "delivered": len(ordered),
        "expected": clients * updates,
    }


def run(kind: str, clients: int, updates: int, node_processes: int) -> dict[str, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        server = start(kind, port, data_dir)
        try:
            asyncio.run(wait_ready(port))
            if node_processes:
                return asyncio.run(measure_with_node(port, clients, updates, node_processes))
            return asyncio.run(measure(port, clients, updates))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    # One Node process spends ~20 us per message: 100 receipts in a row would add ~1 ms to
    # the median on their own, so two share them (both servers get the same clients).
    parser.add_argument(
        "--client-processes", type=int, default=2, help="Node processes sharing the clients"
    )
    parser.add_argument(
        "--python-clients",
        action="store_true",
        help="run the clients in Python instead of Node (tests/streams/client must be installed)",
    )
    args = parser.parse_args()
    node_processes = 0 if args.python_clients else args.client_processes
    kinds = ("baseline", "motia")
    results: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    for round_ in range(args.rounds):
        for kind in kinds if round_ % 2 == 0 else kinds[::-1]:
            results[kind].append(run(kind, args.clients, args.updates, node_processes))
        print(
            f"round {round_ + 1}: p50 motia {results['motia'][-1]['p50_ms']:.2f} ms,"
            f" bare Starlette {results['baseline'][-1]['p50_ms']:.2f} ms",
            flush=True,
        )

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    kind = f"Node clients in {node_processes} process(es)" if node_processes else "Python clients"
    print(f"{args.clients} {kind}, {args.updates} updates, medians of {args.rounds} rounds")
    print(f"{'':28}{'motia':>12}{'bare Starlette':>16}{'ratio':>8}")
    keys = [("p50_ms", "fan-out latency p50 (ms)"), ("p99_ms", "fan-out latency p99 (ms)")]
    if not node_processes:  # paced runs (Node clients) measure latency, not throughput
        keys.append(("deliveries_per_s", "deliveries per second"))
    for key, label in keys:
        motia, baseline = median("motia", key), median("baseline", key)
        print(f"{label:28}{motia:12.2f}{baseline:16.2f}{motia / baseline:8.2f}x")
    for kind in kinds:
        delivered = sum(r["delivered"] for r in results[kind])
        expected = sum(r["expected"] for r in results[kind])
        print(f"delivered {delivered:.0f} of {expected:.0f} ({kind})")
    status = "PASS" if median("motia", "p50_ms") <= 5 else "FAIL"
    print(f"target: p50 <= 5 ms at {args.clients} clients: {status}")


if __name__ == "__main__":
    main()
