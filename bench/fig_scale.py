"""Figure 13: scale-out on one machine, and what it projects to more cores.

13a. CPU-bound events/s (each event about 5 ms of pure Python) with `--workers 2` against
     one process, on SQLite: the ratio that shows processes use the cores.
13b. durable events/s through a trivial subscriber, `--workers 2` against one, on SQLite.
13c. CPU time per event for 1, 2 and 4 worker processes on SQLite and on Redis, from
     /proc/PID/stat (utime + stime) over a fixed number of events: of the Motia processes,
     and of the store apart (redis-server's own CPU; for SQLite, which runs inside the
     workers, the time its single write lock is held, from the probe in scale_probe/).
13d. the projection: with a flat CPU per event, events/s = cores / CPU per event, until the
     store's share (one Redis thread, one SQLite writer) is the ceiling.

CPU times hardly move when other work shares the machine; the events/s do, so the load
average is printed with them."""

from __future__ import annotations

import contextlib
import os
import statistics
import struct
import time
from pathlib import Path
from typing import Any

from fig_redis import (
    _cpu_seconds,
    _local_redis_pid,
    _redis_client,
    _send_bursts,
    _worker_pids,
    delete_redis_prefix,
)
from fig_stores import STORE_VARIABLES, Counts
from harness import ALL_CPUS, BENCH, Figure, Options, judge, motia_argv, motia_env, servers

SCALE_PROJECT = BENCH / "projects" / "scale"
PROBE = BENCH / "scale_probe"
SPIN_ITERATIONS = 60_000  # about 5 ms of CPU per event on the project's machine
CPU_TABLE = (("sqlite", 1), ("sqlite", 2), ("sqlite", 4), ("redis", 1), ("redis", 2),
             ("redis", 4))
PROJECTED_CORES = (8, 32)
POLL = 0.02  # the harness shares the cores it measures: it looks at the counters rarely


def _loadavg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _env(store: str, workdir: Path, label: str, opts: Options, prefix: str) -> dict[str, str]:
    env = motia_env(workdir / f"data-{label}")
    for name in STORE_VARIABLES:
        env.pop(name, None)
    env["MOTIA_BENCH_COUNT_DIR"] = str(workdir / f"counts-{label}")
    env["MOTIA_BENCH_LOCK_DIR"] = str(workdir / f"lock-{label}")
    env["MOTIA_BENCH_SPIN_ITERATIONS"] = str(SPIN_ITERATIONS)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROBE), env.get("PYTHONPATH")) if p)
    (workdir / f"lock-{label}").mkdir(parents=True, exist_ok=True)
    if store == "redis":
        env.update(MOTIA_REDIS_URL=opts.redis_url, MOTIA_REDIS_PREFIX=f"{prefix}_{label}")
    return env


def _redis_idle_us_per_s(pid: int | None) -> float | None:
    """Redis's CPU over one second with the servers idle: what other clients of the same
    server (and the idle workers) cost it, to be read beside the per-event figure."""
    if pid is None:
        return None
    before = _cpu_seconds([pid])
    time.sleep(1.0)
    return (_cpu_seconds([pid]) - before) * 1e6


def _lock_held(folder: Path) -> tuple[float, float, float]:
    """Seconds the SQLite write lock was held, CPU seconds of the holder meanwhile, and
    transactions, summed over processes."""
    total = [0.0, 0.0, 0.0]
    for path in folder.glob("lock-*"):
        with contextlib.suppress(OSError, struct.error):
            for index, value in enumerate(struct.unpack("<ddd", path.read_bytes()[:24])):
                total[index] += value
    return total[0], total[1], total[2]


class Target:
    """One running `motia start` (its worker processes, its counters) and how to load it."""

    def __init__(self, label: str, store: str, workers: int, port: int, pid: int,
                 workdir: Path) -> None:
        self.label, self.store, self.workers, self.port = label, store, workers, port
        self.pids = [pid, *(_worker_pids(pid) if workers > 1 else [])]
        if len(self.pids) != workers + (1 if workers > 1 else 0):
            raise RuntimeError(f"{label}: {len(self.pids) - 1} worker processes running")
        self.counts = Counts(workdir / f"counts-{label}")
        self.locks = workdir / f"lock-{label}"
        self.sent = {"Count": 0, "Spin": 0, "SpinProcess": 0}

    def processes(self) -> list[int]:
        """The server's processes and theirs (the process executor's workers), which stay."""
        found: list[int] = []
        todo = list(self.pids)
        while todo:
            pid = todo.pop()
            if pid in found:  # a worker is both in `pids` and its supervisor's child
                continue
            found.append(pid)
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    with contextlib.suppress(OSError):
                        todo += [int(c) for c in (task / "children").read_text().split()]
        return found

    def per_process(self, subscriber: str) -> dict[str, int]:
        """Events handled so far by each process (a pid each): both workers take a share."""
        found: dict[str, int] = {}
        for path in self.counts.folder.glob(f"{subscriber}-*"):
            with contextlib.suppress(OSError):
                found[path.name.split("-", 1)[1]] = int.from_bytes(path.read_bytes()[:8],
                                                                   "little")
        return found

    def run(self, subscriber: str, count: int, chunk: int,
            redis_pid: int | None = None) -> dict[str, Any]:
        """Publish `count` events through the API, wait until all were handled; the wall
        time, and the CPU of the Motia processes (and of Redis) and lock time meanwhile."""
        path = {"Spin": "/spin", "SpinProcess": "/spin-process"}.get(subscriber, "/burst")
        cpu0 = _cpu_seconds(self.processes())
        store0 = _cpu_seconds([redis_pid]) if redis_pid else 0.0
        lock0 = _lock_held(self.locks)
        started = time.perf_counter()
        _send_bursts(self.port, self.sent[subscriber], count, chunk, path=path)
        self.sent[subscriber] += count
        done = self.counts.wait(subscriber, self.sent[subscriber], 600.0, poll=POLL)
        seconds = done - started
        lock1 = _lock_held(self.locks)
        cpu = _cpu_seconds(self.processes()) - cpu0
        return {
            "events": count, "seconds": round(seconds, 3), "events_per_s": count / seconds,
            "worker_cpu_us": cpu / count * 1e6, "cores_used": round(cpu / seconds, 2),
            "per_process": self.per_process(subscriber),
            "redis_cpu_us": ((_cpu_seconds([redis_pid]) - store0) / count * 1e6
                             if redis_pid else None),
            "lock_us": (lock1[0] - lock0[0]) / count * 1e6 if self.store == "sqlite" else None,
            "lock_cpu_us": ((lock1[1] - lock0[1]) / count * 1e6 if self.store == "sqlite"
                            else None),
            "transactions": lock1[2] - lock0[2], "loadavg": _loadavg(),
        }


def _start(label: str, store: str, workers: int, opts: Options, workdir: Path,
           prefix: str) -> Any:
    argv = motia_argv(SCALE_PROJECT, "{port}")
    if workers > 1:
        argv += ["--workers", str(workers)]
    spec = (label, argv, _env(store, workdir, label, opts, prefix), "/hello")
    return servers([spec], workdir, cpu=ALL_CPUS)


def bench_scale(opts: Options, workdir: Path) -> list[Figure]:
    prefix = f"motia_bench13_{os.getpid()}_{int(time.time())}"
    spin_count = 200 if opts.events_count <= 10000 else 400
    load_before = _loadavg()
    print(f"[13] scale-out: load average {load_before}; {os.cpu_count()} cores", flush=True)
    spin: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    pooled: list[dict[str, Any]] = []  # 13a with "executor": "process", one server process
    events: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    table: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        # 13a and 13b: one and two processes on SQLite up together, measured interleaved
        with contextlib.ExitStack() as stack:
            targets = {}
            for workers in (1, 2):
                label = f"ab-sqlite-{workers}w"
                running = stack.enter_context(_start(label, "sqlite", workers, opts, workdir,
                                                     prefix))[label]
                targets[workers] = Target(label, "sqlite", workers, running.port,
                                          running.proc.pid, workdir)
            targets[1].run("SpinProcess", 20, 5)  # starts the executor's workers
            for target in targets.values():  # warm-up: imports, caches, the first writes
                target.run("Spin", 20, 5)
                target.run("Count", min(2000, opts.events_count // 10 + 1), opts.events_chunk)
            for round_no in range(opts.events_rounds):
                for workers, target in targets.items():
                    time.sleep(0.5)
                    result = target.run("Spin", spin_count, 5)
                    spin[workers].append(result)
                    print(f"  round {round_no + 1}/{opts.events_rounds} SQLite {workers}w "
                          f"CPU-bound {result['events_per_s']:7.1f} events/s "
                          f"({result['worker_cpu_us'] / 1000:.2f} ms CPU/event, "
                          f"{result['cores_used']:.2f} cores used, SQLite write lock held "
                          f"{result['lock_us'] / 1000:.2f} ms/event, per process "
                          f"{sorted(result['per_process'].values())}, load "
                          f"{result['loadavg']})", flush=True)
                time.sleep(0.5)
                result = targets[1].run("SpinProcess", spin_count, 5)
                pooled.append(result)
                print(f"  round {round_no + 1}/{opts.events_rounds} SQLite 1w CPU-bound in the "
                      f"process executor {result['events_per_s']:7.1f} events/s "
                      f"({result['cores_used']:.2f} cores used, SQLite write lock held "
                      f"{result['lock_us'] / 1000:.2f} ms/event)", flush=True)
                for workers, target in targets.items():
                    time.sleep(0.5)
                    result = target.run("Count", opts.events_count, opts.events_chunk)
                    events[workers].append(result)
                    print(f"  round {round_no + 1}/{opts.events_rounds} SQLite {workers}w "
                          f"durable {result['events_per_s']:7.0f} events/s (load "
                          f"{result['loadavg']})", flush=True)
        # 13c: each configuration alone, a fixed number of events, CPU from /proc
        redis_pid = None
        with contextlib.suppress(Exception):
            client = _redis_client(opts.redis_url)
            redis_pid = _local_redis_pid(client)
            client.close()
        for store, workers in CPU_TABLE:
            label = f"c-{store}-{workers}w"
            with _start(label, store, workers, opts, workdir, prefix) as running:
                target = Target(label, store, workers, running[label].port,
                                running[label].proc.pid, workdir)
                target.run("Count", min(2000, opts.events_count // 10 + 1), opts.events_chunk)
                time.sleep(0.5)
                idle = _redis_idle_us_per_s(redis_pid) if store == "redis" else None
                result = target.run("Count", opts.events_count, opts.events_chunk,
                                    redis_pid if store == "redis" else None)
                result["redis_idle_cpu_us_per_s"] = idle
                table[(store, workers)] = result
                store_part = (f"Redis {result['redis_cpu_us']:.1f} us CPU/event"
                              if store == "redis" and result["redis_cpu_us"] is not None
                              else f"write lock held {result['lock_us']:.1f} us/event "
                              f"({result['lock_cpu_us']:.1f} us of CPU)"
                              if store == "sqlite" else "Redis CPU not readable")
                if idle is not None:
                    store_part += f" (idle Redis: {idle / 1000:.0f} ms CPU/s)"
                print(f"  {store:6s} {workers}w {result['events_per_s']:7.0f} events/s, "
                      f"workers {result['worker_cpu_us']:.1f} us CPU/event, {store_part} "
                      f"(load {result['loadavg']})", flush=True)
    finally:
        with contextlib.suppress(Exception):
            delete_redis_prefix(opts.redis_url, prefix)
    figures = _figures(spin, events, table, load_before, pooled)
    _print_projection(table, load_before)
    variants: list[tuple[str, list[dict[str, Any]]]] = [
        ("1 worker, async def", spin[1]), ("2 workers, async def", spin[2]),
        ('1 worker, "executor": "process"', pooled)]
    for name, runs in variants:
        held = statistics.median(r["lock_us"] for r in runs) / 1000
        cpu = statistics.median(r["worker_cpu_us"] for r in runs) / 1000
        print(f"13a, {name}: the SQLite write lock was held {held:.2f} ms per CPU-bound "
              f"event of {cpu:.2f} ms CPU")
    print("(an async handler computing in a loop turn in which a write began keeps the lock "
          "until the turn ends)")
    return figures


def _store_us(store: str, row: dict[str, Any]) -> float | None:
    value = row["redis_cpu_us"] if store == "redis" else row["lock_cpu_us"]
    return float(value) if value else None


def _projection(table: dict[tuple[str, int], dict[str, Any]], store: str) -> dict[str, Any]:
    """Events/s at more cores if the CPU per event stays flat: from the most expensive
    measured worker count (the most contention here), capped by the store's ceiling, which
    comes from the 1-worker run (its share per event, uncontended): one Redis thread or one
    SQLite writer gives 1 s / (store time per event) events/s, which the workers reach at
    (worker CPU per event / store time per event) busy cores."""
    rows = [table[(s, w)] for s, w in table if s == store]
    per_event = max(row["worker_cpu_us"] for row in rows)
    one = table[(store, 1)]
    single = _store_us(store, one)
    ceiling = 1e6 / single if single else None
    result: dict[str, Any] = {"worker_cpu_us": per_event, "store_us_1w": single,
                              "ceiling_events_per_s": ceiling,
                              "ceiling_at_workers": one["worker_cpu_us"] / single
                              if single else None}
    for cores in PROJECTED_CORES:
        linear = cores * 1e6 / per_event
        result[f"cores_{cores}"] = min(linear, ceiling) if ceiling else linear
        result[f"cores_{cores}_linear"] = linear
    return result


def _figures(spin: dict[int, list[dict[str, Any]]], events: dict[int, list[dict[str, Any]]],
             table: dict[tuple[str, int], dict[str, Any]], load_before: str,
             pooled: list[dict[str, Any]]) -> list[Figure]:
    def median(runs: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    common = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": _loadavg()}
    s1, s2 = median(spin[1], "events_per_s"), median(spin[2], "events_per_s")
    c1, c2 = median(spin[1], "worker_cpu_us"), median(spin[2], "worker_cpu_us")
    e1, e2 = median(events[1], "events_per_s"), median(events[2], "events_per_s")
    u1, u2 = median(spin[1], "cores_used"), median(spin[2], "cores_used")

    def per_round(runs: dict[int, list[dict[str, Any]]]) -> list[float]:
        # each round's two runs follow each other: their ratio drifts least with the load
        return [b["events_per_s"] / a["events_per_s"] for a, b in zip(runs[1], runs[2],
                                                                       strict=True)]

    spin_ratio, events_ratio = statistics.median(per_round(spin)), statistics.median(
        per_round(events))
    cores = os.cpu_count() or 1
    target = 1.7 if cores >= 2 else None
    figures = [
        Figure("scale_13a_cpu_bound", "13a. CPU-bound events/s, SQLite, 2 workers vs 1", s2,
               "events/s", s1, "1 worker", spin_ratio,
               f">= {target:g}x" if target else "reference", "",
               judge(spin_ratio, target, None, True) if target else "",
               {**common, "1w": spin[1], "2w": spin[2], "spin_iterations": SPIN_ITERATIONS,
                "round_ratios": [round(r, 3) for r in per_round(spin)]}),
        Figure("scale_13a_process_executor", "13a. CPU-bound events/s, 1 process, executor: "
               "process vs async def", median(pooled, "events_per_s"), "events/s", s1,
               "async def, 1 worker", statistics.median(
                   p["events_per_s"] / a["events_per_s"] for p, a in zip(pooled, spin[1],
                                                                          strict=True)),
               "reference", "", details={**common, "runs": pooled}),
        Figure("scale_13a_cores_used", "13a. cores the servers got, 2 workers vs 1", u2,
               "cores", u1, "1 worker", u2 / u1, "reference", ""),
        Figure("scale_13a_cpu_per_event", "13a. CPU per CPU-bound event, 2 workers vs 1",
               c2 / 1000, "ms", c1 / 1000, "1 worker", c2 / c1, "reference", ""),
        Figure("scale_13b_durable", "13b. durable events/s, SQLite, 2 workers vs 1", e2,
               "events/s", e1, "1 worker", events_ratio, "reference", "",
               details={**common, "1w": events[1], "2w": events[2],
                        "round_ratios": [round(r, 3) for r in per_round(events)]}),
    ]
    for (store, workers), row in table.items():
        base = table[(store, 1)]["worker_cpu_us"]
        figures.append(Figure(
            f"scale_13c_{store}_{workers}w", f"13c. CPU/event, {store}, {workers} workers",
            row["worker_cpu_us"], "us/event", base, "1 worker", row["worker_cpu_us"] / base,
            "reference", "", details={**common, **row}))
    for store in ("sqlite", "redis"):
        if any(s == store for s, _w in table):
            p = _projection(table, store)
            for n in PROJECTED_CORES:
                figures.append(Figure(
                    f"scale_13d_{store}_{n}_cores", f"13d. projected events/s, {store}, "
                    f"{n} cores", p[f"cores_{n}"], "events/s", None, "", None, "reference",
                    "", details=p))
    return figures


def _print_projection(table: dict[tuple[str, int], dict[str, Any]], load_before: str) -> None:
    """The 13c table and the projection, in the form docs/scaling.md shows them."""
    print(f"\nFigure 13c: CPU per event ({os.cpu_count()} cores, load average before "
          f"{load_before}, after {_loadavg()})\n")
    print("| Store | Workers | events/s (measured) | worker CPU/event | store/event "
          "| projected events/s, 8 cores | 32 cores |")
    print("|---|---|---|---|---|---|---|")
    projections = {s: _projection(table, s) for s in {s for s, _w in table}}
    for (store, workers), row in table.items():
        store_us = _store_us(store, row)
        what = ("Redis CPU" if store == "redis"
                else f"CPU holding the write lock; held {row['lock_us']:.0f} us")
        linear = [n * 1e6 / row["worker_cpu_us"] for n in PROJECTED_CORES]
        print(f"| {store} | {workers} | {row['events_per_s']:,.0f} | "
              f"{row['worker_cpu_us']:.0f} us | "
              f"{f'{store_us:.0f} us ({what})' if store_us else '-'} | "
              f"{linear[0]:,.0f} | {linear[1]:,.0f} |")
    print()
    for store, p in sorted(projections.items()):
        if p["ceiling_events_per_s"]:
            print(f"{store}: ceiling of the store {p['ceiling_events_per_s']:,.0f} events/s, "
                  f"reached at about {p['ceiling_at_workers']:.1f} busy workers (one core "
                  f"each); with the ceiling: 8 cores {p['cores_8']:,.0f} events/s, 32 cores "
                  f"{p['cores_32']:,.0f} events/s")
        else:
            print(f"{store}: the store's share was not measurable here")
