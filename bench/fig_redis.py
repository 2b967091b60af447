"""Figure 7: Redis scale-out, `motia start --workers 2` against one worker process."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import (
    ALL_CPUS,
    POST_LUA,
    REDIS_PROJECT,
    Figure,
    Options,
    judge,
    motia_argv,
    motia_env,
    run_worker,
    servers,
)
from procs import HOST
from wrk import WrkResult, load_details, median_rps, round_ratios, run_wrk

WORKER_COUNTS = (1, 2)
BURST_CONNECTIONS = 4


def redis_reachable(url: str) -> bool:
    try:
        import redis
    except ImportError:
        return False
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)


def delete_redis_prefix(url: str, prefix: str) -> int:
    """Delete every key under `prefix` (SCAN, then DEL in batches); returns how many."""
    client = _redis_client(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
        return len(keys)
    finally:
        client.close()


def _queue_left(client: Any, prefix: str, subscriber: str) -> int:
    """Messages of `subscriber` not completed yet, read from the Redis queue's keys
    (`<prefix>:q:{<subscriber>}:ready|delayed|leased|parked`): works across processes."""
    pipe = client.pipeline(transaction=False)
    for part in ("ready", "delayed", "leased", "parked"):
        pipe.zcard(f"{prefix}:q:{{{subscriber}}}:{part}")
    return sum(int(n) for n in pipe.execute())


def _dead_letters(client: Any, prefix: str, subscriber: str) -> int:
    return int(client.zcard(f"{prefix}:q:{{{subscriber}}}:dead"))


def _wait_drained(client: Any, prefix: str, subscriber: str, timeout: float,
                  poll: float = 0.002) -> float:
    """Wait until every message of `subscriber` is completed; returns the perf_counter."""
    deadline = time.perf_counter() + timeout
    while _queue_left(client, prefix, subscriber) > 0:
        if time.perf_counter() > deadline:
            left = _queue_left(client, prefix, subscriber)
            raise RuntimeError(f"{left} {subscriber} messages still queued after {timeout:g} s")
        time.sleep(poll)
    return time.perf_counter()


def _send_bursts(port: int, first: int, count: int, chunk: int, path: str = "/burst") -> None:
    """`POST <path>` (/burst: each emitting `chunk` events) until `count` events are published, over
    a few keep-alive connections so every worker process takes requests."""
    import threading

    starts = list(range(first, first + count, chunk))
    lock = threading.Lock()
    errors: list[str] = []

    def sender() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            while True:
                with lock:
                    if not starts or errors:
                        return
                    start = starts.pop(0)
                n = min(chunk, first + count - start)
                body = json.dumps({"first": start, "n": n}).encode()
                conn.request("POST", path, body=body,
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.status != 202:
                    with lock:
                        errors.append(f"POST {path} answered {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                errors.append(f"POST {path} failed: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(BURST_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors or any(t.is_alive() for t in threads):
        raise RuntimeError(errors[0] if errors else "POST /burst senders did not finish in 120 s")


def _worker_pids(supervisor: int) -> list[int]:
    """The processes `motia start --workers N` forked (multiprocessing's helper left out)."""
    pids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{supervisor}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                    if b"resource_tracker" not in cmdline:
                        pids.append(int(child))
    return pids


def _cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of processes, from /proc/PID/stat (0 for one that is gone)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _local_redis_pid(client: Any) -> int | None:
    """The Redis server's pid when it runs on this machine (its CPU time is then readable);
    None for a remote one."""
    with contextlib.suppress(Exception):
        pid = int(client.info("server")["process_id"])
        if b"redis" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    return None


def _median_cpu(runs: list[dict[str, Any]]) -> dict[str, float | None]:
    """Median CPU per event of 7a's runs: the worker processes and (a local) Redis."""
    redis = [r["redis_cpu_us_per_event"] for r in runs if r["redis_cpu_us_per_event"] is not None]
    return {"workers_us": statistics.median(r["worker_cpu_us_per_event"] for r in runs),
            "redis_us": statistics.median(redis) if redis else None}


def bench_redis(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    """Figure 7: `motia start` (one process) and `motia start --workers 2`, both on Redis
    under prefixes of this run's own, up at the same time and measured interleaved; then
    the hop latency through the Redis queue in-process. Nothing is pinned for the servers
    here (the point is to use both cores); every key of the run is deleted at the end."""
    url = opts.redis_url
    run_prefix = f"motia-bench-{os.getpid()}-{int(time.time())}"
    print(f"[7] Redis scale-out on {url} (key prefix {run_prefix}*): 1 vs 2 worker processes",
          flush=True)
    names = {n: f"{n}-worker" + ("s" if n > 1 else "") for n in WORKER_COUNTS}
    prefixes = {n: f"{run_prefix}-w{n}" for n in WORKER_COUNTS}
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = []
    for n in WORKER_COUNTS:
        env = motia_env(workdir / f"redis-data-w{n}")
        env.update(MOTIA_REDIS_URL=url, MOTIA_REDIS_PREFIX=prefixes[n])
        argv = motia_argv(REDIS_PROJECT, "{port}") + (["--workers", str(n)] if n > 1 else [])
        specs.append((names[n], argv, env, "/hello"))
    client = _redis_client(url)
    events: dict[int, list[dict[str, Any]]] = {n: [] for n in WORKER_COUNTS}
    loads: dict[int, list[WrkResult]] = {n: [] for n in WORKER_COUNTS}
    drains: dict[int, list[float]] = {n: [] for n in WORKER_COUNTS}
    hops: list[dict[str, Any]] = []
    workers_seen: dict[int, int] = {}
    try:
        with servers(specs, workdir, cpu=ALL_CPUS) as running:
            for n in WORKER_COUNTS:
                server = running[names[n]]
                workers_seen[n] = len(_worker_pids(server.proc.pid)) if n > 1 else 1
                if workers_seen[n] != n:
                    raise RuntimeError(f"{names[n]}: {workers_seen[n]} worker processes running")
            # 7a: events/s through the shared queue, and the CPU time the worker processes
            # and Redis spent per event (Redis's includes other clients of a shared server)
            redis_pid = _local_redis_pid(client)
            cpu_pids = {n: _worker_pids(running[names[n]].proc.pid) if n > 1
                        else [running[names[n]].proc.pid] for n in WORKER_COUNTS}
            warmup = min(2000, opts.events_count // 10 + 1)
            next_seq = 0
            for n in WORKER_COUNTS:
                server = running[names[n]]
                _send_bursts(server.port, next_seq, warmup, opts.events_chunk)
                next_seq += warmup
                _wait_drained(client, prefixes[n], "Count", 60.0)
            for round_no in range(opts.events_rounds):
                for n in WORKER_COUNTS:
                    server = running[names[n]]
                    time.sleep(0.5)
                    cpu_before = (_cpu_seconds(cpu_pids[n]),
                                  _cpu_seconds([redis_pid]) if redis_pid else 0.0)
                    started = time.perf_counter()
                    _send_bursts(server.port, next_seq, opts.events_count, opts.events_chunk)
                    next_seq += opts.events_count
                    published = time.perf_counter()
                    drained = _wait_drained(client, prefixes[n], "Count", 120.0)
                    per_event = 1e6 / opts.events_count
                    result = {"events": opts.events_count, "chunk": opts.events_chunk,
                              "events_per_s": opts.events_count / (drained - started),
                              "publish_s": published - started, "handled_s": drained - started,
                              "worker_cpu_us_per_event": round(
                                  (_cpu_seconds(cpu_pids[n]) - cpu_before[0]) * per_event, 1),
                              "redis_cpu_us_per_event": round(
                                  (_cpu_seconds([redis_pid]) - cpu_before[1]) * per_event, 1)
                              if redis_pid else None}
                    events[n].append(result)
                    redis_cpu = result["redis_cpu_us_per_event"]
                    print(f"  round {round_no + 1}/{opts.events_rounds} {names[n]:10s} "
                          f"{result['events_per_s']:8.0f} events/s  (published in "
                          f"{result['publish_s']:.3f} s, all handled in "
                          f"{result['handled_s']:.3f} s; CPU per event: workers "
                          f"{result['worker_cpu_us_per_event']:.0f} us, Redis "
                          f"{'-' if redis_cpu is None else f'{redis_cpu:.0f}'} us)", flush=True)
            # 7b: POST + emit req/s under wrk; the backlog is drained after every run
            for n in WORKER_COUNTS:
                server = running[names[n]]
                print(f"  warm-up {names[n]} /items ({opts.warmup:g} s)", flush=True)
                run_wrk(wrk, server.url("/items"), opts.warmup, opts.connections, POST_LUA,
                        ALL_CPUS)
                _wait_drained(client, prefixes[n], "ItemCreated", 120.0)
            for round_no in range(opts.rounds):
                for n in WORKER_COUNTS:
                    server = running[names[n]]
                    time.sleep(0.5)
                    load = run_wrk(wrk, server.url("/items"), opts.duration, opts.connections,
                                   POST_LUA, ALL_CPUS)
                    ended = time.perf_counter()
                    drain = _wait_drained(client, prefixes[n], "ItemCreated", 120.0) - ended
                    loads[n].append(load)
                    drains[n].append(drain)
                    print(f"  round {round_no + 1}/{opts.rounds} {names[n]:10s} /items "
                          f"{load.rps:10.0f} req/s  p50 {load.p50_ms or 0:.2f} ms  "
                          f"p99 {load.p99_ms or 0:.2f} ms  non-2xx {load.non_2xx}  "
                          f"socket errors {load.socket_errors}  backlog drained "
                          f"{drain:.2f} s after", flush=True)
                    if load.non_2xx:
                        errors = [line for line in server.log.read_text(errors="replace")
                                  .splitlines() if '"level":"error"' in line]
                        print(f"  {len(errors)} errors logged by {names[n]} so far; last: "
                              f"{errors[-1][:400] if errors else '-'}", flush=True)
            dead = {f"{names[n]}/{s}": _dead_letters(client, prefixes[n], s)
                    for n in WORKER_COUNTS for s in ("Count", "ItemCreated")}
        # 7c: hop latency through Redis, in-process (like figures 3 and 6b)
        for round_no in range(opts.events_rounds):
            result = run_worker(["--hop-worker", "--hop-count", str(opts.hop_count),
                                 "--queue", "redis", "--redis-url", url,
                                 "--redis-prefix", f"{run_prefix}-hop{round_no}"],
                                "redis hop worker")
            hops.append(result)
            print(f"  round {round_no + 1}/{opts.events_rounds} redis hop p50 "
                  f"{result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms", flush=True)
    finally:
        client.close()
        deleted = delete_redis_prefix(url, run_prefix)
        print(f"  deleted {deleted} Redis keys under {run_prefix}*", flush=True)

    one, two = WORKER_COUNTS
    ev1 = statistics.median(r["events_per_s"] for r in events[one])
    ev2 = statistics.median(r["events_per_s"] for r in events[two])
    rps1, rps2 = median_rps(loads[one]), median_rps(loads[two])
    # Requests per second until their events were handled too: a process that answers fast
    # but leaves a backlog has only deferred the work.
    sustained = {n: statistics.median(load.requests / (load.seconds + drain)
                                      for load, drain in zip(loads[n], drains[n], strict=True))
                 for n in WORKER_COUNTS}
    p50 = float(statistics.median(h["p50_ms"] for h in hops))
    p99 = float(statistics.median(h["p99_ms"] for h in hops))
    common = {"redis_url": url, "worker_processes": workers_seen, "cpus": os.cpu_count(),
              "pinned": "no: servers, wrk and Redis share every core", "dead_letters": dead}
    return [
        Figure("redis_events_per_s_2w", "7a. events/s on Redis, 2 workers", ev2, "events/s",
               ev1, "1 worker", ev2 / ev1, ">= 1.6x", "", judge(ev2 / ev1, 1.6, None, True),
               {**common, "round_ratios": [round(b["events_per_s"] / a["events_per_s"], 3)
                                           for a, b in zip(events[one], events[two],
                                                           strict=True)],
                "cpu_us_per_event": {n: _median_cpu(events[n]) for n in WORKER_COUNTS},
                "one_worker_runs": events[one], "two_worker_runs": events[two]}),
        Figure("redis_post_rps_2w", "7b. POST+emit req/s on Redis, 2 workers", rps2, "req/s",
               rps1, "1 worker", rps2 / rps1, ">= 1.6x", "", judge(rps2 / rps1, 1.6, None, True),
               {**common, "round_ratios": round_ratios(loads[two], loads[one]),
                "one_worker": {**load_details(loads[one]), "drain_s": drains[one]},
                "two_workers": {**load_details(loads[two]), "drain_s": drains[two]}}),
        Figure("redis_post_sustained_2w", "7b. the same, events handled too, 2 workers",
               sustained[two], "req/s", sustained[one], "1 worker",
               sustained[two] / sustained[one], ">= 1.6x", "",
               judge(sustained[two] / sustained[one], 1.6, None, True),
               {"definition": "requests / (wrk seconds + seconds until the backlog drained)"}),
        Figure("redis_hop_p50_ms", "7c. hop p50 through Redis", p50, "ms", None, "", None,
               "<= 2 ms", "", judge(p50, 2.0, None, False), {"runs": hops}),
        Figure("redis_hop_p99_ms", "7c. hop p99 through Redis", p99, "ms", None, "", None,
               "reference", ""),
    ]
