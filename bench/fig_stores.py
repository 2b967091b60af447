"""Figure 9: the stores side by side in one run. Durable events/s and POST req/s of
`motia start` on SQLite, Redis and PostgreSQL (1 and 2 worker processes on the shared
stores), and the hop latency through the PostgreSQL queue against the Redis queue."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fig_redis import _send_bursts, _worker_pids, delete_redis_prefix
from harness import (
    ALL_CPUS,
    POST_LUA,
    STORES_PROJECT,
    Figure,
    Options,
    judge,
    motia_argv,
    motia_env,
    run_worker,
    servers,
)
from wrk import WrkResult, load_details, median_rps, run_wrk

# (label, store, worker processes); SQLite's workers share one file on one machine.
CONFIGS: tuple[tuple[str, str, int], ...] = (
    ("sqlite-1w", "sqlite", 1),
    ("sqlite-2w", "sqlite", 2),
    ("redis-1w", "redis", 1),
    ("redis-2w", "redis", 2),
    ("postgres-1w", "postgres", 1),
    ("postgres-2w", "postgres", 2),
)
TITLES = {"sqlite-1w": "SQLite", "sqlite-2w": "SQLite, 2 workers",
          "redis-1w": "Redis, 1 worker", "redis-2w": "Redis, 2 workers",
          "postgres-1w": "PostgreSQL, 1 worker", "postgres-2w": "PostgreSQL, 2 workers"}
# Environment variables that would move a server to another store than the one measured.
STORE_VARIABLES = ("MOTIA_REDIS_URL", "REDIS_URL", "MOTIA_DATABASE_URL", "DATABASE_URL",
                   "MOTIA_DATABASE_SCHEMA", "MOTIA_REDIS_PREFIX", "MOTIA_QUEUE_ADAPTER",
                   "MOTIA_STREAMS_ADAPTER")


def postgres_reachable(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def drop_postgres_schemas(url: str, prefix: str) -> int:
    """Drop every schema whose name starts with `prefix`; returns how many."""
    import psycopg

    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{prefix}%",))]
        for name in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    return len(names)


class Counts:
    """The handled-event counters the subscribers of `projects/stores` write, per server
    (a folder each) and subscriber, summed over its worker processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def total(self, subscriber: str) -> int:
        total = 0
        for path in self.folder.glob(f"{subscriber}-*"):
            with contextlib.suppress(OSError):
                total += int.from_bytes(path.read_bytes()[:8], "little")
        return total

    def wait(self, subscriber: str, at_least: int, timeout: float, poll: float = 0.002) -> float:
        """Wait until `at_least` events were handled; returns the perf_counter then."""
        deadline = time.perf_counter() + timeout
        while self.total(subscriber) < at_least:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{subscriber}: {self.total(subscriber)} of {at_least} "
                                   f"events handled after {timeout:g} s")
            time.sleep(poll)
        return time.perf_counter()

    def settle(self, subscriber: str, quiet: float = 0.3) -> int:
        """The count once it has not moved for `quiet` seconds (requests wrk left in flight
        when it stopped may still emit)."""
        last, since = self.total(subscriber), time.perf_counter()
        while time.perf_counter() - since < quiet:
            time.sleep(0.02)
            now = self.total(subscriber)
            if now != last:
                last, since = now, time.perf_counter()
        return last


def _env(store: str, workdir: Path, label: str, opts: Options, names: dict[str, str],
         counts: Path) -> dict[str, str]:
    env = motia_env(workdir / f"data-{label}")
    for name in STORE_VARIABLES:
        env.pop(name, None)
    env["MOTIA_BENCH_COUNT_DIR"] = str(counts)
    if store == "redis":
        env.update(MOTIA_REDIS_URL=opts.redis_url, MOTIA_REDIS_PREFIX=names[label])
    elif store == "postgres":
        env.update(MOTIA_DATABASE_URL=opts.database_url, MOTIA_DATABASE_SCHEMA=names[label])
    return env


def _ratio_figure(key: str, label: str, values: dict[str, float], of: str, against: str,
                  unit: str, target: float | None, details: dict[str, Any]) -> Figure:
    value, base = values[of], values[against]
    ratio = value / base
    return Figure(key, label, value, unit, base, TITLES[against], ratio,
                  f">= {target:g}x" if target is not None else "reference", "",
                  judge(ratio, target, None, True) if target is not None else "", details)


def bench_stores(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    """Every configuration of CONFIGS up at once, measured in interleaved rounds: events/s
    (bursts of `POST /burst` until `events_count` were handled) and `POST /items` under wrk
    (each run counted until its events were handled); then the in-process hop latency
    through the PostgreSQL and the Redis queue. Redis keys and PostgreSQL schemas of the
    run are deleted at the end."""
    run_name = f"motia_bench_{os.getpid()}_{int(time.time())}"
    names = {label: f"{run_name}_{label.replace('-', '_')}" for label, _s, _n in CONFIGS}
    print(f"[9] stores: SQLite, Redis ({opts.redis_url}) and PostgreSQL "
          f"({opts.database_url.split('@')[-1]}), 1 and 2 worker processes; Redis prefix and "
          f"PostgreSQL schemas {run_name}*", flush=True)
    counters = {label: Counts(workdir / f"counts-{label}") for label, _s, _n in CONFIGS}
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = []
    for label, store, workers in CONFIGS:
        argv = motia_argv(STORES_PROJECT, "{port}")
        if workers > 1:
            argv += ["--workers", str(workers)]
        specs.append((label, argv, _env(store, workdir, label, opts, names,
                                        counters[label].folder), "/hello"))
    events: dict[str, list[dict[str, Any]]] = {label: [] for label, _s, _n in CONFIGS}
    loads: dict[str, list[WrkResult]] = {label: [] for label, _s, _n in CONFIGS}
    sustained: dict[str, list[float]] = {label: [] for label, _s, _n in CONFIGS}
    hops: dict[str, list[dict[str, Any]]] = {"postgres": [], "redis": []}
    try:
        with servers(specs, workdir, cpu=ALL_CPUS) as running:
            for label, _store, workers in CONFIGS:
                seen = len(_worker_pids(running[label].proc.pid)) if workers > 1 else 1
                if seen != workers:
                    raise RuntimeError(f"{label}: {seen} worker processes running")
            # 9a: events/s, timed from the first request until the last event was handled
            sent = dict.fromkeys(counters, 0)
            warmup = min(2000, opts.events_count // 10 + 1)

            def burst(label: str, count: int) -> tuple[float, float]:
                started = time.perf_counter()
                _send_bursts(running[label].port, sent[label], count, opts.events_chunk)
                sent[label] += count
                published = time.perf_counter()
                done = counters[label].wait("Count", sent[label], 300.0)
                return published - started, done - started

            for label in counters:
                burst(label, warmup)
            for round_no in range(opts.events_rounds):
                for label in counters:
                    time.sleep(0.5)
                    publish_s, handled_s = burst(label, opts.events_count)
                    result = {"events": opts.events_count, "events_per_s":
                              opts.events_count / handled_s, "publish_s": round(publish_s, 3),
                              "handled_s": round(handled_s, 3)}
                    events[label].append(result)
                    print(f"  round {round_no + 1}/{opts.events_rounds} {label:12s} "
                          f"{result['events_per_s']:8.0f} events/s  (published in "
                          f"{publish_s:.3f} s, all handled in {handled_s:.3f} s)", flush=True)
            # 9b: POST + emit req/s under wrk; each run is also counted until its events
            # were handled, and the next starts with no backlog
            handled = {label: counters[label].settle("ItemCreated") for label in counters}

            def post_run(label: str, seconds: float) -> tuple[WrkResult, float]:
                load = run_wrk(wrk, running[label].url("/items"), seconds, opts.connections,
                               POST_LUA, ALL_CPUS)
                ended = time.perf_counter()
                ok = load.requests - load.non_2xx
                drained = counters[label].wait("ItemCreated", handled[label] + ok, 300.0)
                handled[label] = counters[label].settle("ItemCreated")
                return load, drained - ended

            for label in counters:
                print(f"  warm-up {label} /items ({opts.warmup:g} s)", flush=True)
                post_run(label, opts.warmup)
            for round_no in range(opts.rounds):
                for label in counters:
                    time.sleep(0.5)
                    load, drain = post_run(label, opts.duration)
                    loads[label].append(load)
                    sustained[label].append(load.requests / (load.seconds + drain))
                    print(f"  round {round_no + 1}/{opts.rounds} {label:12s} /items "
                          f"{load.rps:8.0f} req/s  p50 {load.p50_ms or 0:.2f} ms  "
                          f"p99 {load.p99_ms or 0:.2f} ms  non-2xx {load.non_2xx}  "
                          f"backlog drained {drain:.2f} s after", flush=True)
        # 9c: hop latency in-process, PostgreSQL queue against Redis queue, interleaved
        for round_no in range(opts.events_rounds):
            for queue in ("postgres", "redis"):
                args = ["--hop-worker", "--hop-count", str(opts.hop_count), "--queue", queue,
                        "--redis-url", opts.redis_url, "--database-url", opts.database_url,
                        "--redis-prefix", f"{run_name}_hop{round_no}"]
                result = run_worker(args, f"{queue} hop worker", timeout=300.0)
                hops[queue].append(result)
                print(f"  round {round_no + 1}/{opts.events_rounds} {queue:8s} hop p50 "
                      f"{result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms", flush=True)
    finally:
        with contextlib.suppress(Exception):
            print(f"  deleted {delete_redis_prefix(opts.redis_url, run_name)} Redis keys",
                  flush=True)
        with contextlib.suppress(Exception):
            print(f"  dropped {drop_postgres_schemas(opts.database_url, run_name)} "
                  "PostgreSQL schemas", flush=True)
    return _figures(events, loads, sustained, hops, opts)


def _figures(events: dict[str, list[dict[str, Any]]], loads: dict[str, list[WrkResult]],
             sustained: dict[str, list[float]], hops: dict[str, list[dict[str, Any]]],
             opts: Options) -> list[Figure]:
    ev = {label: statistics.median(r["events_per_s"] for r in runs)
          for label, runs in events.items()}
    rps = {label: median_rps(runs) for label, runs in loads.items()}
    done = {label: statistics.median(runs) for label, runs in sustained.items()}
    common = {"redis_url": opts.redis_url, "database": opts.database_url.split("@")[-1],
              "cpus": os.cpu_count(), "pinned": "no: servers, wrk and the stores share every core"}
    figures: list[Figure] = []
    # (measured, baseline, label, target ratio or None for a reference row)
    Row = tuple[str, str, str, float | None]
    against_redis: tuple[Row, ...] = (
        ("postgres-1w", "redis-1w", "PostgreSQL vs Redis, 1 worker", 0.5),
        ("postgres-2w", "redis-2w", "PostgreSQL vs Redis, 2 workers", 0.5),
    )
    others: tuple[Row, ...] = (
        ("postgres-2w", "postgres-1w", "PostgreSQL, 2 workers vs 1", None),
        ("redis-2w", "redis-1w", "Redis, 2 workers vs 1", None),
        ("sqlite-2w", "sqlite-1w", "SQLite, 2 workers vs 1", None),
        ("postgres-1w", "sqlite-1w", "PostgreSQL vs SQLite, 1 worker", None),
        ("redis-1w", "sqlite-1w", "Redis vs SQLite, 1 worker", None),
    )
    reference = tuple((of, against, label, None) for of, against, label, _t in against_redis)
    measures: tuple[tuple[str, str, dict[str, float], Callable[[str], Any], tuple[Row, ...]],
                    ...] = (
        ("9a", "events/s", ev, lambda label: events[label], against_redis + others),
        ("9b", "POST+emit req/s", rps, lambda label: load_details(loads[label]),
         reference + others),
        ("9b'", "POST+emit, events handled too", done,
         lambda label: {"runs": sustained[label]}, reference),
    )
    # the measured figures of each round (the configurations ran interleaved)
    per_round: dict[str, dict[str, list[float]]] = {
        "9a": {label: [r["events_per_s"] for r in runs] for label, runs in events.items()},
        "9b": {label: [load.rps for load in runs] for label, runs in loads.items()},
        "9b'": sustained,
    }
    for key, what, values, detail, rows in measures:
        unit = "events/s" if key == "9a" else "req/s"
        for of, against, label, target in rows:
            rounds = per_round.get(key)
            figures.append(_ratio_figure(
                f"stores_{key}_{of}_vs_{against}".replace("-", "_").replace("'", "s"),
                f"{key}. {what}, {label}", values, of, against, unit, target,
                {**common, of: detail(of), against: detail(against),
                 "round_ratios": [round(a / b, 3) for a, b in
                                  zip(rounds[of], rounds[against], strict=True)]
                 if rounds else None}))
    pg50 = float(statistics.median(h["p50_ms"] for h in hops["postgres"]))
    pg99 = float(statistics.median(h["p99_ms"] for h in hops["postgres"]))
    rd50 = float(statistics.median(h["p50_ms"] for h in hops["redis"]))
    rd99 = float(statistics.median(h["p99_ms"] for h in hops["redis"]))
    figures += [
        Figure("stores_hop_p50_postgres", "9c. hop p50 through PostgreSQL", pg50, "ms", rd50,
               "Redis", pg50 / rd50, "<= 3 ms", "", judge(pg50, 3.0, None, False),
               {"postgres": hops["postgres"], "redis": hops["redis"]}),
        Figure("stores_hop_p99_postgres", "9c. hop p99 through PostgreSQL", pg99, "ms", rd99,
               "Redis", pg99 / rd99, "reference", ""),
    ]
    return figures
