"""One measured run of one peer of figure 12, run with the peer's own virtualenv (see
bench/peers_env.py): starts the peer's worker pinned to the worker CPU, pins itself (the
producer) to the other, then

1. warm-up: enqueues `--warmup` jobs and waits until all were handled (this also waits for
   the worker to come up);
2. hop: enqueues `--hop-count` jobs at `--rate` per second, each stamped with `time.time()`
   just before its enqueue call; the handler stamps its start (bench/peers/tally.py);
3. throughput: enqueues `--count` jobs back to back, one enqueue call each, and times from
   the first enqueue until the handler has counted them all (at most `--max-seconds`).

Prints one JSON line. The worker is killed on every way out; Redis keys carry `--queue` in
their names so the harness can delete them; DBOS's database is dropped here."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import tally

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PEERS = ("celery", "dramatiq", "arq", "rq", "huey-sqlite", "huey-redis", "dbos")

Send = Callable[[int, float], Awaitable[None]]


def worker_argv(peer: str, redis_url: str, queue: str) -> list[str]:
    """The peer's worker as its documentation starts it, with default settings."""
    commands = {
        "celery": [str(BIN / "celery"), "-A", "peer_celery", "worker", "--loglevel=WARNING"],
        "dramatiq": [str(BIN / "dramatiq"), "peer_dramatiq"],
        "arq": [str(BIN / "arq"), "peer_arq.WorkerSettings"],
        "rq": [str(BIN / "rq"), "worker", "--url", redis_url, queue],
        "huey-sqlite": [str(BIN / "huey_consumer"), "peer_huey.huey"],
        "huey-redis": [str(BIN / "huey_consumer"), "peer_huey.huey"],
        "dbos": [sys.executable, str(HERE / "peer_dbos.py")],
    }
    return commands[peer]


async def make_producer(peer: str, redis_url: str, queue: str,
                        cleanups: list[Callable[[], Any]]) -> Send:
    """The peer's ordinary way to enqueue one job from another process."""
    if peer == "celery":
        from peer_celery import handle as celery_task

        async def celery_send(seq: int, sent: float) -> None:
            celery_task.delay(seq, sent)
        return celery_send
    if peer == "dramatiq":
        from peer_dramatiq import handle as actor

        async def dramatiq_send(seq: int, sent: float) -> None:
            actor.send(seq, sent)
        return dramatiq_send
    if peer == "arq":
        from arq import create_pool
        from arq.connections import RedisSettings

        pool = await create_pool(RedisSettings.from_dsn(redis_url))
        cleanups.append(pool.aclose)
        jobs = [0]

        async def arq_send(seq: int, sent: float) -> None:
            jobs[0] += 1  # job ids carry the queue name, so the run's keys can be found
            await pool.enqueue_job("handle", seq, sent, _queue_name=queue,
                                   _job_id=f"{queue}-{jobs[0]}")
        return arq_send
    if peer == "rq":
        from peer_rq import handle as rq_job
        from rq import Queue

        from redis import Redis

        rq_queue = Queue(queue, connection=Redis.from_url(redis_url))
        rq_jobs = [0]

        async def rq_send(seq: int, sent: float) -> None:
            rq_jobs[0] += 1
            rq_queue.enqueue(rq_job, seq, sent, job_id=f"{queue}-{rq_jobs[0]}")
        return rq_send
    if peer.startswith("huey"):
        from peer_huey import handle as huey_task

        async def huey_send(seq: int, sent: float) -> None:
            huey_task(seq, sent)
        return huey_send
    if peer == "dbos":
        from dbos import DBOSClient

        ready = os.environ["PEER_READY_FILE"]
        deadline = time.monotonic() + 90.0
        # The client needs the tables the worker's launch creates; before any timing.
        while not os.path.exists(ready):  # noqa: ASYNC240
            if time.monotonic() > deadline:
                raise RuntimeError("the DBOS worker did not launch within 90 s")
            await asyncio.sleep(0.05)
        client = DBOSClient(system_database_url=os.environ["PEER_DATABASE_URL"])
        cleanups.append(client.destroy)
        options: Any = {"queue_name": queue, "workflow_name": "handle"}

        async def dbos_send(seq: int, sent: float) -> None:
            client.enqueue(options, seq, sent)
        return dbos_send
    raise SystemExit(f"unknown peer {peer!r}; known: {', '.join(PEERS)}")


async def wait_handled(folder: Path, target: int, seconds: float,
                       worker: subprocess.Popen[bytes]) -> bool:
    deadline = time.perf_counter() + seconds
    while tally.total(folder) < target:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with code {worker.returncode}")
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.001)
    return True


async def measure(args: argparse.Namespace, worker: subprocess.Popen[bytes],
                  folder: Path) -> dict[str, Any]:
    cleanups: list[Callable[[], Any]] = []
    try:
        send = await make_producer(args.peer, args.redis_url, args.queue, cleanups)
        for seq in range(args.warmup):
            await send(seq, 0.0)
        if not await wait_handled(folder, args.warmup, 90.0, worker):
            raise RuntimeError(f"warm-up: {tally.total(folder)} of {args.warmup} jobs handled "
                               "after 90 s")
        started = time.perf_counter()
        for seq in range(args.hop_count):
            delay = started + seq / args.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await send(seq, time.time())
        await wait_handled(folder, args.warmup + args.hop_count, 60.0, worker)
        latencies = tally.hop_latencies_ms(folder)
        done = tally.total(folder)
        started = time.perf_counter()
        for seq in range(args.count):
            await send(seq, 0.0)
        published = time.perf_counter()
        complete = await wait_handled(folder, done + args.count, args.max_seconds, worker)
        ended = time.perf_counter()
        handled = tally.total(folder) - done
    finally:
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                result = cleanup()
                if asyncio.iscoroutine(result):
                    await result
    return {
        "system": args.peer,
        "events": args.count,
        "handled": handled,
        "complete": complete,
        "events_per_s": handled / (ended - started),
        "publish_s": round(published - started, 3),
        "handled_s": round(ended - started, 3),
        "hop": hop_summary(latencies, args.hop_count, args.rate),
    }


def hop_summary(latencies: list[float], sent: int, rate: float) -> dict[str, Any]:
    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, max(0, round(p / 100 * len(latencies) + 0.5) - 1))]

    if not latencies:
        return {"sent": sent, "count": 0, "rate": rate}
    return {"sent": sent, "count": len(latencies), "rate": rate, "p50_ms": pct(50),
            "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": latencies[-1],
            "mean_ms": statistics.fmean(latencies)}


def drop_database(url: str) -> None:
    import psycopg

    admin, name = url.rsplit("/", 1)
    with psycopg.connect(f"{admin}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--peer", required=True, choices=PEERS)
    parser.add_argument("--queue", required=True, help="queue name / key prefix of this run")
    parser.add_argument("--work", type=Path, required=True, help="a folder of this run's own")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default="",
                        help="DBOS: a PostgreSQL database of this run's own (dropped at the end)")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--hop-count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--worker-cpu", type=int, default=0)
    parser.add_argument("--producer-cpu", type=int, default=1)
    args = parser.parse_args()
    folder = args.work / "counts"
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.update(PEER_REDIS_URL=args.redis_url, PEER_QUEUE=args.queue,
                      PEER_DATABASE_URL=args.database_url, MOTIA_BENCH_COUNT_DIR=str(folder),
                      PEER_HUEY_STORE=args.peer.removeprefix("huey-"),
                      PEER_HUEY_FILE=str(args.work / "huey.db"),
                      PYTHONPATH=str(HERE), PEER_READY_FILE=str(args.work / "ready"))
    pin = (os.cpu_count() or 1) >= 2
    argv = worker_argv(args.peer, args.redis_url, args.queue)
    if pin:
        argv = ["taskset", "-c", str(args.worker_cpu), *argv]
        os.sched_setaffinity(0, {args.producer_cpu})
    with open(args.work / "worker.log", "ab") as log:
        worker = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=HERE,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        result = asyncio.run(measure(args, worker, folder))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        if args.peer == "dbos" and args.database_url:
            with contextlib.suppress(Exception):
                drop_database(args.database_url)
    result["pinned"] = pin
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
