"""Figure 12: Motia's durable events against peer task queues, measured in the same run.

Every system runs the same trivial handler (bench/peers/tally.py), its worker pinned to the
worker CPU and its producer to the other (Motia in-process: both on the worker CPU, in one
process). The peers run at their default settings from virtualenvs of their own
(bench/peers_env.py, pins in bench/peers-requirements.txt); a peer that does not install or
whose store does not answer is left out with the reason printed. Rounds are interleaved
(every system once per round); medians and spread are reported, and the ratios against the
best peer go into the run's table."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fig_redis import redis_reachable
from harness import Figure, Options, run_worker
from peer_http import bench_fastapi
from peer_motia import PEER_DIR, http_run
from peers_env import peer_python
from procs import run_json_child

IN_PROCESS = ("motia-sqlite", "motia-redis")
HTTP = ("motia-sqlite-http", "motia-redis-http")
PEERS = ("celery", "dramatiq", "arq", "rq", "huey-sqlite", "huey-redis", "dbos")
HTTP_REFERENCE = "fastapi"  # figure 12d, measured by wrk in rounds of its own
SYSTEMS = (*IN_PROCESS, *HTTP, *PEERS, HTTP_REFERENCE)
NEEDS_REDIS = {"motia-redis", "motia-redis-http", "celery", "dramatiq", "arq", "rq",
               "huey-redis"}


def _postgres_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


def _available(selected: list[str], opts: Options, workdir: Path) -> dict[str, str]:
    """System -> the interpreter that drives it ("" for Motia); prints why one is left out."""
    ready: dict[str, str] = {}
    redis_ok = redis_reachable(opts.redis_url)
    for system in selected:
        if system in NEEDS_REDIS and not redis_ok:
            print(f"  skipped {system}: no Redis server answers at {opts.redis_url}", flush=True)
            continue
        if system == "dbos" and not _postgres_answers(opts.database_url):
            print(f"  skipped dbos: no PostgreSQL answers at "
                  f"{opts.database_url.split('@')[-1]}", flush=True)
            continue
        if system.startswith("motia"):
            ready[system] = ""
            continue
        try:
            ready[system] = str(peer_python(system.split("-")[0], workdir / "pip.log"))
        except RuntimeError as exc:
            print(f"  skipped {system}: {exc}", flush=True)
    return ready


def _one_run(system: str, python: str, wrk: str, opts: Options, workdir: Path,
             tag: str) -> dict[str, Any]:
    work = workdir / tag
    work.mkdir(parents=True, exist_ok=True)
    phases = ["--count", str(opts.peers_count), "--hop-count", str(opts.peers_hop_count),
              "--rate", str(opts.peers_rate), "--max-seconds", str(opts.peers_max_seconds)]
    budget = opts.peers_hop_count / opts.peers_rate + opts.peers_max_seconds + 240.0
    if system in IN_PROCESS:
        queue = system.removeprefix("motia-")
        return run_worker(["--peers-worker", "--queue", queue, "--data-dir", str(work),
                           "--redis-url", opts.redis_url, "--redis-prefix", tag,
                           *(f"--peers-{a[2:]}" if a.startswith("--") else a for a in phases)],
                          f"{system} worker", timeout=budget)
    if system in HTTP:
        return http_run(system.split("-")[1], wrk, opts, work, tag)
    argv = [python, str(PEER_DIR / "drive.py"), "--peer", system, "--queue", tag,
            "--work", str(work), "--redis-url", opts.redis_url, *phases]
    if system == "dbos":
        argv += ["--database-url", f"{opts.database_url.rsplit('/', 1)[0]}/{tag}"]
    return run_json_child(argv, f"{system} run", budget, PEER_DIR)


def _delete_keys(url: str, tag: str) -> int:
    """Every Redis key of the run carries `tag` in its name (queues, job ids, prefixes)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    try:
        keys = list(client.scan_iter(match=f"*{tag}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
        for member in client.smembers("rq:queues"):  # RQ's registry of queue names
            if tag.encode() in member:
                client.srem("rq:queues", member)
        return len(keys)
    finally:
        client.close()


def bench_peers(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    run_tag = f"motia_bench_peers_{os.getpid()}_{int(time.time())}"
    selected = [s.strip() for s in opts.peers.split(",") if s.strip()] or list(SYSTEMS)
    unknown = sorted(set(selected) - set(SYSTEMS))
    if unknown:
        raise SystemExit(f"bench: unknown system(s) {', '.join(unknown)} in --peers; known: "
                         f"{', '.join(SYSTEMS)}")
    print(f"[12] peers: {opts.peers_count} events back to back, {opts.peers_hop_count} hops at "
          f"{opts.peers_rate:g}/s, {opts.rounds} interleaved round(s); Redis keys and DBOS "
          f"databases named {run_tag}*", flush=True)
    ready = _available(selected, opts, workdir)
    fastapi = ready.pop(HTTP_REFERENCE, None)
    runs: dict[str, list[dict[str, Any]]] = {system: [] for system in ready}
    errors: dict[str, list[str]] = {}
    try:
        for round_no in range(opts.rounds):
            for system, python in ready.items():
                tag = f"{run_tag}_{system.replace('-', '_')}_{round_no}"
                try:
                    result = _one_run(system, python, wrk, opts, workdir, tag)
                except Exception as exc:  # one broken peer must not stop the others
                    errors.setdefault(system, []).append(str(exc)[-500:])
                    print(f"  round {round_no + 1}/{opts.rounds} {system:18s} failed: "
                          f"{str(exc)[-300:]}", flush=True)
                    continue
                runs[system].append(result)
                print(f"  round {round_no + 1}/{opts.rounds} {_round_line(result)}", flush=True)
    finally:
        with contextlib.suppress(Exception):
            print(f"  deleted {_delete_keys(opts.redis_url, run_tag)} Redis keys", flush=True)
    rows = summarize(runs)
    print_peer_table(rows)
    figures = peer_figures(rows, runs, errors)
    if fastapi is not None:
        figures += bench_fastapi(wrk, fastapi, opts, workdir)
    return figures


def _round_line(result: dict[str, Any]) -> str:
    hop = result.get("hop") or {}
    line = f"{result['system']:18s} {result['events_per_s']:9.0f} events/s"
    if not result["complete"]:
        line += f" (only {result['handled']} of {result['events']} handled in time)"
    if "p50_ms" in hop:
        line += f"  hop p50 {hop['p50_ms']:.3f} ms  p99 {hop['p99_ms']:.3f} ms"
    return line


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per system: median events/s with min and max, median hop p50 and p99 of the rounds."""
    rows: dict[str, dict[str, Any]] = {}
    for system, results in runs.items():
        if not results:
            continue
        rates = [r["events_per_s"] for r in results]
        hops = [r["hop"] for r in results if "p50_ms" in r.get("hop", {})]
        rows[system] = {
            "events_per_s": statistics.median(rates), "min": min(rates), "max": max(rates),
            "complete": all(r["complete"] for r in results), "rounds": len(results),
            "hop_p50_ms": statistics.median(h["p50_ms"] for h in hops) if hops else None,
            "hop_p99_ms": statistics.median(h["p99_ms"] for h in hops) if hops else None,
        }
    return rows


def print_peer_table(rows: dict[str, dict[str, Any]]) -> None:
    print("\n  system              events/s (median, min-max)     hop p50     hop p99")
    for system, row in rows.items():
        spread = f"{row['events_per_s']:9,.0f} ({row['min']:,.0f}-{row['max']:,.0f})"
        if not row["complete"]:
            spread += " *"
        p50 = f"{row['hop_p50_ms']:9.2f} ms" if row["hop_p50_ms"] is not None else "        -"
        p99 = f"{row['hop_p99_ms']:9.2f} ms" if row["hop_p99_ms"] is not None else "        -"
        print(f"  {system:18s}  {spread:30s} {p50}  {p99}")
    if not all(row["complete"] for row in rows.values()):
        print("  * a run hit --peers-max-seconds before every event was handled: "
              "handled / elapsed")


def _best(rows: dict[str, dict[str, Any]], key: str, highest: bool) -> tuple[str, float] | None:
    values = {s: r[key] for s, r in rows.items() if s in PEERS and r[key] is not None}
    if not values:
        return None
    name = (max if highest else min)(values, key=lambda s: values[s])
    return name, float(values[name])


def peer_figures(rows: dict[str, dict[str, Any]], runs: dict[str, list[dict[str, Any]]],
                 errors: dict[str, list[str]]) -> list[Figure]:
    details = {"summary": rows, "runs": runs, "errors": errors}
    figures: list[Figure] = []
    best_rate = _best(rows, "events_per_s", highest=True)
    labels = {"motia-sqlite": "12a. events/s, in-process emits (SQLite)",
              "motia-redis": "12a. events/s, in-process emits (Redis)",
              "motia-sqlite-http": "12b. events/s, 1 event per POST (SQLite)",
              "motia-redis-http": "12b. events/s, 1 event per POST (Redis)"}
    for system, label in labels.items():
        if system in rows and best_rate is not None:
            value = rows[system]["events_per_s"]
            figures.append(Figure(f"peers_{system.replace('-', '_')}_events_per_s", label,
                                  value, "events/s", best_rate[1], f"best peer: {best_rate[0]}",
                                  value / best_rate[1], "reference", "", "", details))
            details = {}
    for store in ("sqlite", "redis"):
        system = f"motia-{store}"
        for pct in ("p50", "p99"):
            best = _best(rows, f"hop_{pct}_ms", highest=False)
            value = rows.get(system, {}).get(f"hop_{pct}_ms")
            if value is None or best is None:
                continue
            figures.append(Figure(f"peers_{system.replace('-', '_')}_hop_{pct}_ms",
                                  f"12c. hop {pct} at the paced rate ({store})", value, "ms",
                                  best[1], f"best peer: {best[0]}", value / best[1],
                                  "reference", ""))
    if not figures and rows:
        figures.append(Figure("peers_summary", "12. peers (no Motia/peer pair measured)", 0.0,
                              "", details=details))
    return figures
