"""Figure 17: the `chat` template with 200 connected clients: messages/s posted to one room
(each kept in state and delivered to all 200) and the delivery latency from the POST to
each client's receipt, against a trivial flow (POST + one event) in the same run.

Both projects run under `motia start` (SQLite) pinned to the server CPU. The 200 clients
are WebSockets in the harness process, each with its own access token (signed here with
the server's secret, naming the room) and subscribed to the room's group of the
`messages` stream. A run posts `count` messages from 16 concurrent requests of one member
and stops the clock when every client has received every message.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from fig_pipeline import TRIVIAL_PROJECT, _handled, _run
from harness import Figure, Options, motia_argv, motia_env, servers
from websockets.typing import Subprotocol

from motia.auth import issue_access_token

SECRET = "a-benchmark-secret-that-is-longer-than-32-characters"
ROOM = "bench"
CLIENTS = 200
CONCURRENCY = 16


def _chat_project(workdir: Path) -> Path:
    subprocess.run([sys.executable, "-m", "motia", "create", "chat", "--template", "chat",
                    "--dir", str(workdir)], check=True, capture_output=True, timeout=60)
    return workdir / "chat"


class Clients:
    """`CLIENTS` subscribers of the room, counting the messages each receives and the
    latency of each receipt (the message text is its post time, in ns)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sockets: list[Any] = []
        self.latencies: list[float] = []
        self.expected = 0
        self.received = [0] * CLIENTS
        self.all_done = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def connect(self) -> None:
        for n in range(CLIENTS):
            token = issue_access_token(f"client{n}", ttl=3600, claims={"rooms": [ROOM]},
                                       secret=SECRET)
            socket = await websockets.connect(f"ws://127.0.0.1:{self.port}/",
                                              subprotocols=[Subprotocol("Authorization"),
                                                            Subprotocol(token)])
            join = {"streamName": "messages", "groupId": ROOM, "subscriptionId": f"s{n}"}
            await socket.send(json.dumps({"type": "join", "data": join}))
            frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
            if frame["event"]["type"] != "sync":
                raise RuntimeError(f"client {n} was not let in: {frame}")
            self.sockets.append(socket)
        self._tasks = [asyncio.create_task(self._read(n, s)) for n, s in enumerate(self.sockets)]

    async def _read(self, n: int, socket: Any) -> None:
        async for raw in socket:
            event = json.loads(raw)["event"]
            if event["type"] != "event" or event["event"]["type"] != "message":
                continue
            self.latencies.append((time.time_ns() - int(event["event"]["data"]["text"])) / 1e6)
            self.received[n] += 1
            if self.received[n] == self.expected and all(r >= self.expected for r in self.received):
                self.all_done.set()

    def expect(self, count: int) -> None:
        self.expected = count
        self.received = [0] * CLIENTS
        self.latencies = []
        self.all_done.clear()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for socket in self.sockets:
            await socket.close()


async def _member(client: httpx.AsyncClient) -> dict[str, str]:
    session = await client.post("/session", json={"name": "poster"})
    token = session.json()["token"]
    joined = await client.post(f"/rooms/{ROOM}/join", headers={"authorization": f"Bearer {token}"})
    return {"authorization": f"Bearer {joined.json()['token']}"}


async def _post_all(port: int, clients: Clients, count: int, timeout: float) -> float:
    """Post `count` messages; returns messages/s until every client had all of them."""
    clients.expect(count)
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        headers = await _member(client)

        async def post() -> None:
            async with limit:
                body = {"text": str(time.time_ns())}
                answer = await client.post(f"/rooms/{ROOM}/messages", json=body, headers=headers)
                if answer.status_code != 201:
                    raise RuntimeError(f"POST answered {answer.status_code}: {answer.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(post() for _ in range(count)))
        await asyncio.wait_for(clients.all_done.wait(), timeout)
        return count / (time.perf_counter() - started)


async def _chat_rounds(port: int, count: int, rounds: int) -> tuple[list[float], list[float]]:
    clients = Clients(port)
    await clients.connect()
    try:
        await _post_all(port, clients, 20, 60.0)  # warm-up
        rates: list[float] = []
        latencies: list[float] = []
        for _ in range(rounds):
            rates.append(await _post_all(port, clients, count, 300.0))
            latencies += clients.latencies
        return rates, latencies
    finally:
        await clients.close()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_chat(opts: Options, workdir: Path) -> list[Figure]:
    count = opts.chat_count
    print(f"[17] chat template: {count} messages per run to {CLIENTS} clients, "
          f"{opts.rounds} round(s), against a trivial flow", flush=True)
    project = _chat_project(workdir)
    chat_env = {**motia_env(workdir / "chat-data"), "JWT_SECRET": SECRET}
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("chat", motia_argv(project, "{port}"), chat_env, "/chat"),
        ("trivial", motia_argv(TRIVIAL_PROJECT, "{port}"), motia_env(workdir / "trivial-data"),
         "/__motia/health"),
    ]
    with servers(specs, workdir) as running:
        _run(running["trivial"].port, 20, "/ping", b"{}", _handled, 60.0)
        trivial = [_run(running["trivial"].port, count, "/ping", b"{}", _handled, 120.0)
                   for _ in range(opts.rounds)]
        rates, latencies = asyncio.run(_chat_rounds(running["chat"].port, count, opts.rounds))
    for round_no, (rate, base) in enumerate(zip(rates, trivial, strict=True)):
        print(f"  round {round_no + 1}/{opts.rounds}: chat {rate:7.1f} messages/s, "
              f"trivial flow {base:7.1f} flows/s", flush=True)
    rate, base = statistics.median(rates), statistics.median(trivial)
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    details = {"runs": {"chat": rates, "trivial": trivial}, "count": count,
               "clients": CLIENTS, "concurrency": CONCURRENCY, "deliveries": len(latencies)}
    return [
        Figure("chat_messages_per_s", f"17. chat template, messages/s to {CLIENTS} clients",
               rate, "msgs/s", base, "trivial flow (POST + 1 event)", rate / base,
               "reference", "", "", details),
        Figure("chat_delivery_p99_ms", f"17. chat delivery p99, POST to each of {CLIENTS}",
               p99, "ms", None, f"p50 {p50:.1f} ms", None, "reference", "", "",
               {"p50_ms": p50, "p99_ms": p99}),
    ]
