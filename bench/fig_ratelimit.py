"""Figure 10: what a rate limit costs. POST req/s of the figure-2 step with a rate limit on
every API step against the same step without one, on SQLite (counted in process) and on
Redis (one Lua script per request), all four servers measured in interleaved rounds."""

from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

from fig_redis import delete_redis_prefix
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
)
from procs import HOST
from wrk import load_details, measure_load, median_rps, round_ratios

# A limit no load reaches (a billion a second), so every request is counted and allowed:
# the figure is the cost of counting, not of refusing.
LIMIT = {"MOTIA_RATE_LIMIT_REQUESTS": "1000000000", "MOTIA_RATE_LIMIT_PER": "1s"}


def bench_rate_limits(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    prefix = f"motia_bench_rl_{os.getpid()}_{int(time.time())}"
    print(f"[10] rate limits on vs off, SQLite and Redis ({opts.redis_url}, prefix {prefix})",
          flush=True)

    def env(label: str, redis: bool, limited: bool) -> dict[str, str]:
        values = motia_env(workdir / f"data-rl-{label}")
        if redis:
            values.update(MOTIA_REDIS_URL=opts.redis_url, MOTIA_REDIS_PREFIX=f"{prefix}_{label}")
        if limited:
            values.update(LIMIT)
        return values

    labels = {"sqlite-off": (False, False), "sqlite-on": (False, True),
              "redis-off": (True, False), "redis-on": (True, True)}
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        (label, motia_argv(API_PROJECT, "{port}"), env(label, *flags), "/hello")
        for label, flags in labels.items()
    ]
    figures: list[Figure] = []
    try:
        with servers(specs, workdir) as running:
            for name, server in running.items():
                status, body = http_request(server.port, "POST", "/items", POST_BODY)
                if status != 201:
                    raise RuntimeError(f"{name} POST /items answered {status}: {body[:200]!r}")
                limited = _limit_header(server.port) is not None
                if limited != labels[name][1]:
                    raise RuntimeError(f"{name}: rate limit {'on' if limited else 'off'}, "
                                       "not as configured")
            post = measure_load(wrk, running, "/items", opts, POST_LUA)
        for store, title in (("sqlite", "SQLite"), ("redis", "Redis")):
            on, off = post[f"{store}-on"], post[f"{store}-off"]
            value, base = median_rps(on), median_rps(off)
            figures.append(Figure(
                f"post_rps_rate_limited_{store}", f"10. POST with a rate limit, {title}",
                value, "req/s", base, f"no limit, {title}", value / base, "reference", "", "",
                {"round_ratios": round_ratios(on, off), "on": load_details(on),
                 "off": load_details(off),
                 "non_2xx_on": sum(r.non_2xx for r in on)},
            ))
    finally:
        for label in labels:
            if labels[label][0]:
                delete_redis_prefix(opts.redis_url, f"{prefix}_{label}")
    return figures


def _limit_header(port: int) -> str | None:
    """`RateLimit-Limit` of a `POST /items` answer: present only when a limit applies."""
    conn = http.client.HTTPConnection(HOST, port, timeout=5.0)
    try:
        conn.request("POST", "/items", body=POST_BODY,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.getheader("ratelimit-limit")
    finally:
        conn.close()
