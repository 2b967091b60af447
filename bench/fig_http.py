"""Figures 1 and 2: GET and POST req/s of API steps against Starlette and raw ASGI."""

from __future__ import annotations

import json
import time
from pathlib import Path

from harness import (
    API_PROJECT,
    POST_BODY,
    POST_LUA,
    Figure,
    Options,
    dir_bytes,
    http_request,
    judge,
    motia_argv,
    motia_env,
    servers,
    uvicorn_argv,
)
from wrk import WrkResult, load_details, measure_load, median_rps, round_ratios


def bench_http(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    """Figures 1 and 2: all servers up at once on CPU 0, measured one at a time by wrk."""
    data_dir = workdir / "api-data"
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("motia", motia_argv(API_PROJECT, "{port}"), motia_env(data_dir), "/hello"),
        ("starlette", uvicorn_argv("starlette_app", "{port}"), None, "/hello"),
        ("raw-asgi", uvicorn_argv("raw_asgi_app", "{port}"), None, "/hello"),
    ]
    figures: list[Figure] = []
    with servers(specs, workdir) as running:
        for name, server in running.items():
            status, body = http_request(server.port, "POST", "/items", POST_BODY)
            if status != 201:
                raise RuntimeError(f"{name} POST /items answered {status}: {body[:200]!r}")
        if 1 in opts.only:
            print("[1] trivial GET", flush=True)
            get = measure_load(wrk, running, "/hello", opts)
            motia, starlette, raw = (median_rps(get[n]) for n in ("motia", "starlette", "raw-asgi"))
            figures.append(Figure(
                "get_rps", "1. GET trivial step req/s", motia, "req/s", starlette,
                "Starlette", motia / starlette, ">= 0.7x", ">= 1.0x",
                judge(motia / starlette, 0.7, 1.0, True),
                {"round_ratios": round_ratios(get["motia"], get["starlette"]),
                 "motia": load_details(get["motia"]),
                 "starlette": load_details(get["starlette"]),
                 "raw_asgi": load_details(get["raw-asgi"])},
            ))
            figures.append(Figure(
                "get_rps_vs_raw_asgi", "1b. GET trivial step vs raw ASGI", motia, "req/s", raw,
                "raw ASGI", motia / raw, "reference", "",
            ))
        if 2 in opts.only:
            print("[2] POST validate + state + emit", flush=True)
            before = _event_count(running["motia"].port)
            warm: dict[str, WrkResult] = {}
            post = measure_load(wrk, running, "/items", opts, POST_LUA, warm)
            motia_post = post["motia"]
            answered = sum(r.requests - r.non_2xx for r in [warm["motia"], *motia_post])
            at_end = _event_count(running["motia"].port)
            drained, drain_s = _wait_events(running["motia"].port, at_end)
            motia, starlette, raw = (
                median_rps(post[n]) for n in ("motia", "starlette", "raw-asgi")
            )
            details = {
                "round_ratios": round_ratios(motia_post, post["starlette"]),
                "motia": load_details(motia_post),
                "starlette": load_details(post["starlette"]),
                "raw_asgi": load_details(post["raw-asgi"]),
                "events_delivered_during_load": at_end - before,
                "events_delivered_total": drained - before,
                "post_201_seen_by_wrk": answered,
                "event_backlog_drain_s": round(drain_s, 3),
                "db_bytes": dir_bytes(data_dir),
            }
            if drained - before < answered:
                print(f"  warning: only {drained - before} events reached the subscriber for "
                      f"{answered} answered POSTs", flush=True)
            figures.append(Figure(
                "post_rps", "2. POST validate+state+emit req/s", motia, "req/s", starlette,
                "Starlette echo", motia / starlette, ">= 0.4x", ">= 0.6x",
                judge(motia / starlette, 0.4, 0.6, True), details,
            ))
            figures.append(Figure(
                "post_rps_vs_raw_asgi", "2b. POST step vs raw ASGI echo", motia, "req/s", raw,
                "raw ASGI echo", motia / raw, "reference", "",
            ))
    return figures


def _event_count(port: int) -> int:
    status, body = http_request(port, "GET", "/bench/stats")
    if status != 200:
        raise RuntimeError(f"GET /bench/stats answered {status}")
    return int(json.loads(body)["itemCreatedEvents"])


def _wait_events(port: int, seen: int, timeout: float = 30.0) -> tuple[int, float]:
    """Wait until the subscriber stops receiving (the backlog of figure 2 is drained)."""
    start = time.perf_counter()
    last = seen
    last_change = start
    while time.perf_counter() - start < timeout:
        time.sleep(0.1)
        now = _event_count(port)
        if now != last:
            last, last_change = now, time.perf_counter()
        elif time.perf_counter() - last_change >= 0.5:
            break
    return last, last_change - start
