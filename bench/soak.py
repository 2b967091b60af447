"""Soak: a real `motia start` on SQLite under sustained POST + GET load with stream
subscribers, for 5 minutes; RSS, WAL size and database size sampled every 10 s and
reported as growth ratios.

    .venv/bin/python bench/soak.py                    # 5 minutes
    .venv/bin/python bench/soak.py --duration 60      # a shorter run
    .venv/bin/python bench/soak.py --json bench/results/soak.json

Targets: the server's own memory flat after warm-up (anonymous RSS at the end <= 1.2x
at 1 minute) and the write-ahead log never above 64 MB. The whole RSS is reported too: it
also counts the pages of the database's memory map that reads have touched (SQLite maps
up to 256 MiB of the file), which are the kernel's page cache of the file, not memory the
process holds, and follow which pages were read. The project is bench/projects/soak (logs and traces
recorded and kept 60 s, so retention pruning runs during the soak). The server is pinned
to CPU 0 and this client to CPU 1 when `taskset` exists and there are two cores; the
server runs in its own process group and is killed on every way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import websockets
from procs import free_port, pinned, rss_mb

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH / "projects" / "soak"
HOST = "127.0.0.1"
MB = 1024 * 1024
RSS_TARGET = 1.2
WAL_TARGET_MB = 64.0
FEEDS = 8
IDS_PER_CONNECTION = 2500


@dataclass
class Sample:
    at: float  # seconds since the load started
    rss_mb: float
    anon_mb: float
    wal_mb: float
    db_mb: float
    posts: int
    gets: int
    stream_messages: int


@dataclass
class Load:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    gets: int = 0
    stream_messages: int = 0
    created: list[str] = field(default_factory=list)


def size_mb(path: Path) -> float:
    try:
        return path.stat().st_size / MB
    except FileNotFoundError:
        return 0.0


async def request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> int:
    """One HTTP/1.1 keep-alive exchange; returns the status."""
    writer.write(head + body)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def http_client(port: int, kind: str, load: Load, stop: asyncio.Event, seq: int) -> None:
    counter = 0
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError as exc:
            load.errors[type(exc).__name__] += 1
            await asyncio.sleep(0.5)
            continue
        try:
            while not stop.is_set():
                if kind == "post" or not load.created:
                    # A steady data set: ids cycle, so state stops growing once every id
                    # exists and any growth left is the server's own.
                    counter = (counter + 1) % IDS_PER_CONNECTION
                    item_id = f"c{seq}-{counter}"
                    body = json.dumps({"id": item_id, "name": "widget", "quantity": 3}).encode()
                    head = (
                        f"POST /items HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json"
                        f"\r\nContent-Length: {len(body)}\r\n\r\n"
                    ).encode()
                    async with asyncio.timeout(30):
                        status = await request(reader, writer, head, body)
                    load.posts += 1
                    if status == 201 and len(load.created) < IDS_PER_CONNECTION * 64:
                        load.created.append(item_id)
                else:
                    item_id = random.choice(load.created)
                    head = f"GET /items/{item_id} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
                    async with asyncio.timeout(30):
                        status = await request(reader, writer, head, b"")
                    load.gets += 1
                load.statuses[status] += 1
        except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            load.errors[type(exc).__name__] += 1
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def subscriber(port: int, feed: int, load: Load, stop: asyncio.Event) -> None:
    join = {
        "type": "join",
        "data": {"streamName": "itemFeed", "groupId": f"feed-{feed}", "subscriptionId": "s"},
    }
    while not stop.is_set():
        try:
            async with websockets.connect(f"ws://{HOST}:{port}/", max_size=None) as ws:
                await ws.send(json.dumps(join))
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1):
                            await ws.recv()
                            load.stream_messages += 1
        except (OSError, websockets.WebSocketException) as exc:
            # The close code says why: 4008 is a client the server dropped for falling behind.
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            load.errors[f"ws {type(exc).__name__}{f' {code}' if code else ''}"] += 1
            await asyncio.sleep(0.5)


async def soak(args: argparse.Namespace, pid: int, port: int, data: Path) -> list[Sample]:
    load = Load()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(http_client(port, "post", load, stop, i)) for i in range(args.posters)
    ]
    tasks += [
        asyncio.create_task(http_client(port, "get", load, stop, args.posters + i))
        for i in range(args.getters)
    ]
    tasks += [
        asyncio.create_task(subscriber(port, i % FEEDS, load, stop))
        for i in range(args.subscribers)
    ]
    samples: list[Sample] = []
    started = time.monotonic()
    wal_peak = 0.0

    def sample() -> None:
        samples.append(
            Sample(
                at=round(time.monotonic() - started, 1),
                rss_mb=round(rss_mb(pid), 1),
                anon_mb=round(rss_mb(pid, "RssAnon"), 1),
                wal_mb=round(size_mb(data / "motia.db-wal"), 1),
                db_mb=round(size_mb(data / "motia.db"), 1),
                posts=load.posts,
                gets=load.gets,
                stream_messages=load.stream_messages,
            )
        )
        s = samples[-1]
        print(
            f"{s.at:6.0f} s  RSS {s.rss_mb:6.1f} MB (anon {s.anon_mb:6.1f})"
            f"  WAL {s.wal_mb:6.1f} MB  DB {s.db_mb:6.1f} MB"
            f"  POST {s.posts:8d}  GET {s.gets:8d}  stream msgs {s.stream_messages:9d}",
            flush=True,
        )

    next_sample = started
    while time.monotonic() - started < args.duration:
        if time.monotonic() >= next_sample:
            sample()
            next_sample += args.interval
        wal_peak = max(wal_peak, size_mb(data / "motia.db-wal"))  # between samples too
        await asyncio.sleep(0.5)
    sample()
    stop.set()
    await asyncio.wait(tasks, timeout=10)
    for task in tasks:
        task.cancel()
    print(f"statuses: {dict(load.statuses)}  errors: {dict(load.errors)}")
    print(f"WAL peak (checked every 0.5 s): {wal_peak:.1f} MB")
    args.wal_peak = wal_peak
    args.statuses = {str(k): v for k, v in load.statuses.items()}
    args.errors = dict(load.errors)
    return samples


def at_or_after(samples: list[Sample], seconds: float) -> Sample:
    return next((s for s in samples if s.at >= seconds), samples[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (300)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=60.0, help="RSS baseline at (60 s)")
    parser.add_argument("--posters", type=int, default=8, help="POST connections (8)")
    parser.add_argument("--getters", type=int, default=4, help="GET connections (4)")
    parser.add_argument("--subscribers", type=int, default=32, help="WebSocket clients (32)")
    parser.add_argument("--json", type=Path, help="write the samples and figures here")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="motia-soak-"))
    port = free_port()
    log = data / "server.log"
    env = {
        **os.environ,
        "MOTIA_DATA_DIR": str(data),
        "MOTIA_WORKBENCH_TOKEN": "soak-benchmark-token",
    }
    command = [sys.executable, "-m", "motia", "start", "--dir", str(PROJECT)]
    command += ["--port", str(port), "--host", HOST]
    with log.open("wb") as out:
        server = subprocess.Popen(
            pinned(command, "0"),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {1} if (os.cpu_count() or 1) >= 2 else {0})
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                print(log.read_text(), file=sys.stderr)
                return 2
            time.sleep(0.1)
        print(
            f"soak: {args.duration:g} s, {args.posters} POST + {args.getters} GET connections, "
            f"{args.subscribers} stream subscribers; data in {data}",
            flush=True,
        )
        samples = asyncio.run(soak(args, server.pid, port, data))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    warm = at_or_after(samples, args.warmup)
    end = samples[-1]
    rss_ratio = end.rss_mb / warm.rss_mb if warm.rss_mb else float("inf")
    anon_ratio = end.anon_mb / warm.anon_mb if warm.anon_mb else float("inf")
    wal_max = max(args.wal_peak, *(s.wal_mb for s in samples))
    db_ratio = end.db_mb / warm.db_mb if warm.db_mb else float("inf")
    load_seconds = max(end.at - warm.at, 1.0)
    figures = {
        "rss_warm_mb": warm.rss_mb,
        "rss_end_mb": end.rss_mb,
        "rss_ratio": round(rss_ratio, 3),
        "anon_warm_mb": warm.anon_mb,
        "anon_end_mb": end.anon_mb,
        "anon_ratio": round(anon_ratio, 3),
        "wal_max_mb": round(wal_max, 1),
        "db_warm_mb": warm.db_mb,
        "db_end_mb": end.db_mb,
        "db_ratio": round(db_ratio, 3),
        "post_per_s_after_warmup": round((end.posts - warm.posts) / load_seconds),
        "get_per_s_after_warmup": round((end.gets - warm.gets) / load_seconds),
        "stream_messages": end.stream_messages,
        "statuses": args.statuses,
        "errors": args.errors,
    }
    anon_ok = anon_ratio <= RSS_TARGET
    wal_ok = wal_max <= WAL_TARGET_MB
    print()
    print(
        f"memory (anonymous RSS) {warm.anon_mb:.1f} MB at {warm.at:.0f} s -> {end.anon_mb:.1f}"
        f" MB at {end.at:.0f} s: {anon_ratio:.2f}x (target <= {RSS_TARGET}x) "
        f"{'ok' if anon_ok else 'MISSED'}"
    )
    print(
        f"RSS  {warm.rss_mb:.1f} -> {end.rss_mb:.1f} MB ({rss_ratio:.2f}x; with the touched "
        "pages of the database's memory map)"
    )
    print(
        f"WAL  max {wal_max:.1f} MB (target <= {WAL_TARGET_MB:g} MB) {'ok' if wal_ok else 'MISSED'}"
    )
    print(
        f"DB   {warm.db_mb:.1f} MB at {warm.at:.0f} s -> {end.db_mb:.1f} MB: {db_ratio:.2f}x "
        "(items are upserted over a fixed set of ids; logs and traces are pruned after 60 s)"
    )
    print(
        f"load {figures['post_per_s_after_warmup']} POST/s, {figures['get_per_s_after_warmup']}"
        f" GET/s after warm-up, {end.stream_messages} stream messages received"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"figures": figures, "samples": [asdict(s) for s in samples]}, indent=2)
        )
    shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
