"""Benchmark harness for Motia for Python: one command, figures and ratios against baselines
measured in the same run.

    /work/main/.venv/bin/python bench/run.py            # full run (about 5 minutes)
    /work/main/.venv/bin/python bench/run.py --quick    # shorter run (about 1 minute)
    /work/main/.venv/bin/python bench/run.py --json results.json

Figures (see bench/README.md for what each one means):
  1. GET req/s of a trivial API step under `motia start` vs bare Starlette (and raw ASGI)
  2. POST req/s of a validating, state-writing, emitting step vs a Starlette JSON echo
  3. in-process event hop latency p50/p99 (publish -> subscriber handler start)
  4. cold start of a 20-step project: spawn of `motia start` -> first HTTP 200 (median of 5)
  5. idle RSS of `motia start` on examples/resources vs the bare Starlette app
  6. durable events: events/s through a trivial subscriber and hop latency p50/p99 with the
     SQLite queue (the default), each against the memory queue measured in the same run
  7. Redis scale-out: events/s and POST req/s with `motia start --workers 2` against one
     worker process, both on Redis (ratios from one run), and hop latency through Redis
  10. rate limits: POST req/s with a rate limit on every API step vs none, on SQLite and on
     Redis, in the same run
  9. stores side by side: durable events/s and POST req/s on SQLite, Redis and PostgreSQL
     (1 and 2 worker processes on the shared stores), hop latency through PostgreSQL
  11. POST req/s of figure 2's step with OpenTelemetry export on (to a local receiver)
     against the same server with it off, measured in the same run
  15. flow control: events/s of an event step with concurrency, throttle and an idempotency
     key (limits no load reaches) against the same step without them, SQLite, same run
  12. peers (only when named: `--only 12`; installs the peers into a cache folder): durable
     events/s and hop latency of Motia on SQLite and Redis (in-process emits, and one event
     per HTTP request) against Celery, Dramatiq, arq, RQ, Huey and DBOS, in the same run
  13. scale-out proof: CPU-bound and durable events/s with 2 SQLite worker processes vs 1,
     CPU per event of the workers and of the store for 1, 2 and 4 workers on SQLite and
     Redis, and the events/s that projects to 8 and 32 cores
  14. scheduled emits (only when named: `--only 14`): 100,000 emits scheduled within a
     minute on SQLite, Redis and PostgreSQL; how late each fires (p50/p99/max), and the
     scheduling rate against immediate emits on the same store
  16. the `pipeline` template (only when named: `--only 16`): flows/s end to end (ten
     handler runs in Python, JavaScript and TypeScript per flow) against a trivial flow
     (POST + one event), same run
  17. the `chat` template (only when named: `--only 17`): messages/s posted to a room with
     200 connected WebSocket clients (stored, then delivered to all 200) against a trivial
     flow, same run, and the delivery p99 from the POST to each client
  8. a separate script, bench/runners.py: JavaScript, TypeScript and Ruby event steps in their
     runner processes vs a Python step, publish -> handler start p50/p99 and invocations/s

Servers are pinned to CPU 0 and wrk (and this harness) to CPU 1 when `taskset` exists and
the machine has two or more cores. Everything binds to 127.0.0.1; every child process is
killed on exit, and every load run is bounded in time.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from fig_chat import bench_chat
from fig_cold import bench_cold_start
from fig_durable import bench_durable, events_worker
from fig_flow import bench_flow
from fig_hop import bench_hop, hop_worker
from fig_http import bench_http
from fig_otel import bench_otel
from fig_peers import bench_peers
from fig_pipeline import bench_pipeline
from fig_ratelimit import bench_rate_limits
from fig_redis import bench_redis, redis_reachable
from fig_rss import bench_rss
from fig_scale import bench_scale
from fig_scheduled import bench_scheduled, scheduled_worker
from fig_stores import bench_stores, postgres_reachable
from harness import CLIENT_CPU, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, Figure, Options
from peer_motia import peers_worker
from procs import can_pin, cpu_busy, kill_all, on_signal
from report import code_version, machine_info, print_table
from wrk import ensure_wrk


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true",
                        help="shorter run: 3 s measurements, 1 round, 1 s warm-up")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of each measured wrk run (default 10, quick 3)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds of wrk warm-up per server (default 3, quick 1)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="measured wrk runs per server; the median is reported "
                        "(default 3, quick 1)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--only", default="1,2,3,4,5,6,7,9,10,11,13,15",
                        help="comma-separated figures to run, e.g. 1,3 (default all; figures "
                        "7, 9, 10 and 13 are left out with a warning when Redis (or, for 9, "
                        "PostgreSQL) does not answer, unless named here; figure 12, the "
                        "peers, runs only when named)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help="the Redis server of figure 7 (default $MOTIA_BENCH_REDIS_URL or "
                        "redis://127.0.0.1:6379/0); its keys live under a prefix of the run's "
                        "own, deleted at the end")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="the PostgreSQL database of figure 9 (default "
                        "$MOTIA_BENCH_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/"
                        "postgres); its schemas are named after the run and dropped at the end")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to this long for other work on the machine to stop")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when a figure misses its target")
    parser.add_argument("--peers", default="",
                        help="figure 12: comma-separated systems to measure (default all: "
                        "motia-sqlite, motia-redis, motia-sqlite-http, motia-redis-http, celery, "
                        "dramatiq, arq, rq, huey-sqlite, huey-redis, dbos, fastapi)")
    parser.add_argument("--peers-count", type=int, default=None,
                        help="figure 12: events enqueued back to back per run (default 10000, "
                        "quick 3000)")
    parser.add_argument("--peers-hop-count", type=int, default=None,
                        help="figure 12: paced hops per run (default 1000, quick 400)")
    parser.add_argument("--peers-rate", type=float, default=200.0,
                        help="figure 12: events/s of the paced hop phase (200)")
    parser.add_argument("--peers-max-seconds", type=float, default=30.0,
                        help="figure 12: longest wait for a run's events to be handled; a "
                        "slower system is reported as handled/elapsed (30)")
    parser.add_argument("--peers-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hop-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hop-count", type=int, default=None,
                        help="sequential publishes of figures 3 and 6b (default 5000, quick 2000)")
    parser.add_argument("--events-count", type=int, default=None,
                        help="events of figure 6a per run (default 20000, quick 10000)")
    parser.add_argument("--events-chunk", type=int, default=100,
                        help="events per bus.publish call in figure 6a (100)")
    parser.add_argument("--events-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scheduled-count", type=int, default=None,
                        help="figure 14: emits scheduled per store (default 100000, quick 20000)")
    parser.add_argument("--scheduled-window", type=float, default=None,
                        help="figure 14: seconds their fire times spread over (default 60, "
                        "quick 15)")
    parser.add_argument("--scheduled-lead", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument("--scheduled-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pipeline-count", type=int, default=None,
                        help="figure 16: flows per run (default 500, quick 200)")
    parser.add_argument("--chat-count", type=int, default=None,
                        help="figure 17: messages per run (default 500, quick 200)")
    parser.add_argument("--queue", choices=("sqlite", "memory", "redis", "postgres"),
                        default="memory", help=argparse.SUPPRESS)
    parser.add_argument("--redis-prefix", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.hop_worker:
        hop_worker(args.hop_count or 3000, args.queue, args.data_dir, args.redis_url,
                   args.redis_prefix, args.database_url)
        return 0
    if args.peers_worker:
        peers_worker(args.queue, args.peers_count or 10000, args.peers_hop_count or 1000,
                     args.peers_rate, args.peers_max_seconds, args.data_dir, args.redis_url,
                     args.redis_prefix)
        return 0
    if args.scheduled_worker:
        scheduled_worker(args.scheduled_count or 100000, args.scheduled_window or 60.0,
                         args.scheduled_lead, args.queue, args.data_dir, args.redis_url,
                         args.redis_prefix, args.database_url)
        return 0
    if args.events_worker:
        events_worker(args.events_count or 20000, args.events_chunk, args.queue, args.data_dir)
        return 0
    opts = Options(
        duration=args.duration or (3.0 if args.quick else 10.0),
        warmup=args.warmup or (1.0 if args.quick else 3.0),
        rounds=args.rounds or (1 if args.quick else 3),
        connections=args.connections,
        hop_count=args.hop_count or (2000 if args.quick else 5000),
        cold_runs=5,
        events_count=args.events_count or (10000 if args.quick else 20000),
        events_chunk=max(1, args.events_chunk),
        events_rounds=args.rounds or (1 if args.quick else 3),
        only={int(x) for x in args.only.split(",") if x.strip()},
        redis_url=args.redis_url,
        database_url=args.database_url,
        peers=args.peers,
        peers_count=args.peers_count or (3000 if args.quick else 10000),
        peers_hop_count=args.peers_hop_count or (400 if args.quick else 1000),
        peers_rate=args.peers_rate,
        peers_max_seconds=args.peers_max_seconds,
        scheduled_count=args.scheduled_count or (20000 if args.quick else 100000),
        scheduled_window=args.scheduled_window or (15.0 if args.quick else 60.0),
        pipeline_count=args.pipeline_count or (200 if args.quick else 500),
        chat_count=args.chat_count or (200 if args.quick else 500),
    )
    if 7 in opts.only and not redis_reachable(opts.redis_url):
        message = f"no Redis server answers at {opts.redis_url} (start redis-server or pass " \
                  "--redis-url)"
        if "--only" in " ".join(sys.argv if argv is None else argv):
            raise SystemExit(f"bench: figure 7 needs Redis: {message}")
        print(f"bench: warning: figure 7 left out: {message}", flush=True)
        opts.only.discard(7)
    if 9 in opts.only and not (redis_reachable(opts.redis_url)
                               and postgres_reachable(opts.database_url)):
        message = (f"figure 9 needs Redis at {opts.redis_url} and PostgreSQL at "
                   f"{opts.database_url.split('@')[-1]} (with psycopg installed)")
        if "--only" in " ".join(sys.argv if argv is None else argv):
            raise SystemExit(f"bench: {message}")
        print(f"bench: warning: figure 9 left out: {message}", flush=True)
        opts.only.discard(9)
    if 10 in opts.only and not redis_reachable(opts.redis_url):
        message = f"figure 10 needs Redis at {opts.redis_url}"
        if "--only" in " ".join(sys.argv if argv is None else argv):
            raise SystemExit(f"bench: {message}")
        print(f"bench: warning: figure 10 left out: {message}", flush=True)
        opts.only.discard(10)
    if 13 in opts.only and not redis_reachable(opts.redis_url):
        message = f"figure 13 needs Redis at {opts.redis_url}"
        if "--only" in " ".join(sys.argv if argv is None else argv):
            raise SystemExit(f"bench: {message}")
        print(f"bench: warning: figure 13 left out: {message}", flush=True)
        opts.only.discard(13)
    atexit.register(kill_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if can_pin():
        os.sched_setaffinity(0, {int(CLIENT_CPU)})  # keep this harness off the server's CPU
    wrk = ensure_wrk() if opts.only & {1, 2, 7, 9, 10, 11, 12} else ""
    busy_before = cpu_busy()
    waited_until = time.monotonic() + args.wait_idle
    while busy_before > 0.15 and time.monotonic() < waited_until:
        print(f"bench: the machine is {busy_before:.0%} busy; waiting for it to go idle",
              flush=True)
        time.sleep(4.0)
        busy_before = cpu_busy()
    if busy_before > 0.15:
        print(f"bench: warning: the machine is already {busy_before:.0%} busy; other work "
              "skews the figures (ratios less so: baselines run interleaved)", flush=True)
    started = time.time()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="motia-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if opts.only & {1, 2}:
                figures += bench_http(wrk, opts, workdir)
            if 3 in opts.only:
                figures += bench_hop(opts)
            if 4 in opts.only:
                figures += bench_cold_start(opts, workdir)
            if 5 in opts.only:
                figures += bench_rss(workdir)
            if 6 in opts.only:
                figures += bench_durable(opts, workdir)
            if 7 in opts.only:
                figures += bench_redis(wrk, opts, workdir)
            if 9 in opts.only:
                figures += bench_stores(wrk, opts, workdir)
            if 10 in opts.only:
                figures += bench_rate_limits(wrk, opts, workdir)
            if 11 in opts.only:
                figures += bench_otel(wrk, opts, workdir)
            if 12 in opts.only:
                figures += bench_peers(wrk, opts, workdir)
            if 13 in opts.only:
                figures += bench_scale(opts, workdir)
            if 14 in opts.only:
                figures += bench_scheduled(opts, workdir)
            if 15 in opts.only:
                figures += bench_flow(opts, workdir)
            if 16 in opts.only:
                figures += bench_pipeline(opts, workdir)
            if 17 in opts.only:
                figures += bench_chat(opts, workdir)
        finally:
            kill_all()
    busy_after = cpu_busy()
    print_table(figures)
    print(f"Machine busy before/after the run (other processes): {busy_before:.0%} / "
          f"{busy_after:.0%}")
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "machine": {**machine_info(), "busy_before": round(busy_before, 3),
                    "busy_after": round(busy_after, 3)},
        "code": code_version(),
        "options": {**asdict(opts), "only": sorted(opts.only)},
        "figures": [asdict(f) for f in figures],
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 1 if args.strict and any(f.status == "FAIL" for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
