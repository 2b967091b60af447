"""Figure 12d: figure 2's `POST /items` (validation, state, one emit) under `motia start`
against the same endpoint written for FastAPI (bench/peers/fastapi_app.py, from its own
virtualenv) and figure 2's bare Starlette echo; all up at once on the server CPU, wrk on
the other, interleaved rounds like figures 1 and 2; before each run the harness waits
until the servers are idle (Motia's event backlog drained)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from harness import (
    API_PROJECT,
    POST_BODY,
    POST_LUA,
    Figure,
    Options,
    http_request,
    motia_argv,
    motia_env,
    servers,
    uvicorn_argv,
)
from peer_motia import PEER_DIR
from procs import HOST
from wrk import WrkResult, load_details, median_rps, round_ratios, run_wrk


def fastapi_argv(python: str) -> list[str]:
    return [python, "-m", "uvicorn", "fastapi_app:app", "--app-dir", str(PEER_DIR),
            "--host", HOST, "--port", "{port}", "--loop", "uvloop", "--http", "httptools",
            "--workers", "1", "--no-access-log", "--log-level", "warning"]


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def wait_quiet(pids: list[int], timeout: float = 30.0) -> float:
    """Wait until the servers together use under 5% of a CPU over 0.3 s: Motia drains the
    previous run's events after wrk stops, which would otherwise load the next server's
    run on the same CPU. Returns the seconds waited."""
    started = time.monotonic()
    hz = os.sysconf("SC_CLK_TCK")
    while time.monotonic() - started < timeout:
        before = _cpu_ticks(pids)
        time.sleep(0.3)
        if (_cpu_ticks(pids) - before) / hz < 0.3 * 0.05:
            break
    return time.monotonic() - started


def bench_fastapi(wrk: str, python: str, opts: Options, workdir: Path) -> list[Figure]:
    print("[12d] POST /items: Motia vs FastAPI vs Starlette echo", flush=True)
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("motia", motia_argv(API_PROJECT, "{port}"), motia_env(workdir / "api-data"), "/hello"),
        ("fastapi", fastapi_argv(python), None, "/hello"),
        ("starlette", uvicorn_argv("starlette_app", "{port}"), None, "/hello"),
    ]
    with servers(specs, workdir) as running:
        for name, server in running.items():
            status, body = http_request(server.port, "POST", "/items", POST_BODY)
            if status != 201:
                raise RuntimeError(f"{name} POST /items answered {status}: {body[:200]!r}")
        pids = [server.proc.pid for server in running.values()]
        post: dict[str, list[WrkResult]] = {name: [] for name in running}
        for server in running.values():
            run_wrk(wrk, server.url("/items"), opts.warmup, opts.connections, POST_LUA)
        for round_no in range(opts.rounds):
            for name, server in running.items():
                waited = wait_quiet(pids)
                result = run_wrk(wrk, server.url("/items"), opts.duration, opts.connections,
                                 POST_LUA)
                post[name].append(result)
                print(f"  round {round_no + 1}/{opts.rounds} {name:10s} {result.rps:8.0f} "
                      f"req/s  p50 {result.p50_ms or 0:.2f} ms  p99 {result.p99_ms or 0:.2f} "
                      f"ms  non-2xx {result.non_2xx}  (waited {waited:.1f} s for quiet)",
                      flush=True)
    motia, fastapi, starlette = (median_rps(post[n]) for n in ("motia", "fastapi", "starlette"))
    details = {"round_ratios": round_ratios(post["motia"], post["fastapi"]),
               **{name: load_details(results) for name, results in post.items()}}
    return [
        Figure("peers_post_vs_fastapi", "12d. POST validate+state+emit vs FastAPI", motia,
               "req/s", fastapi, "FastAPI, validate + dict", motia / fastapi, "reference", "",
               "", details),
        Figure("peers_fastapi_vs_starlette", "12d. FastAPI POST vs Starlette echo", fastapi,
               "req/s", starlette, "Starlette echo", fastapi / starlette, "reference", ""),
    ]
