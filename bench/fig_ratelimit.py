"""Figure 10: what the protections cost. POST req/s of the figure-2 step with a rate limit on
every API step, security headers, CORS for the requests' origin and compression on, against
the same step with all of them off, on SQLite (counted in process) and on Redis (one Lua
script per request), all four servers measured in interleaved rounds."""

from __future__ import annotations

import http.client
import os
import time
from pathlib import Path

from fig_redis import delete_redis_prefix
from harness import (
    API_PROJECT,
    POST_BODY,
    Figure,
    Options,
    http_request,
    judge,
    motia_argv,
    motia_env,
    servers,
)
from procs import HOST
from wrk import load_details, measure_load, median_rps, round_ratios

# A limit no load reaches (a billion a second), so every request is counted and allowed:
# the figure is the cost of counting, not of refusing.
LIMIT = {"MOTIA_RATE_LIMIT_REQUESTS": "1000000000", "MOTIA_RATE_LIMIT_PER": "1s"}
ORIGIN = "https://app.example.com"
# Everything on: the limit, the security headers, CORS for the load's origin (every request
# carries it: post_origin.lua) and compression (the answer is below its threshold, so this
# measures deciding, which every answer pays).
PROTECTED = {**LIMIT, "MOTIA_SECURITY_HEADERS_ENABLED": "true", "MOTIA_CORS_ORIGINS": ORIGIN,
             "MOTIA_COMPRESSION_ENABLED": "true"}
UNPROTECTED = {"MOTIA_SECURITY_HEADERS_ENABLED": "false", "MOTIA_COMPRESSION_ENABLED": "false"}
POST_ORIGIN_LUA = Path(__file__).with_name("post_origin.lua")
# Targets of the protected server against the unprotected one on the same store.
TARGETS = {"sqlite": 0.85, "redis": 0.7}


def bench_rate_limits(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    prefix = f"motia_bench_rl_{os.getpid()}_{int(time.time())}"
    print(f"[10] protections on vs off, SQLite and Redis ({opts.redis_url}, prefix {prefix})",
          flush=True)

    def env(label: str, redis: bool, limited: bool) -> dict[str, str]:
        values = motia_env(workdir / f"data-rl-{label}")
        if redis:
            values.update(MOTIA_REDIS_URL=opts.redis_url, MOTIA_REDIS_PREFIX=f"{prefix}_{label}")
        values.update(PROTECTED if limited else UNPROTECTED)
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
                seen = _protection_headers(server.port)
                if all(seen) != labels[name][1] or any(seen) != labels[name][1]:
                    raise RuntimeError(f"{name}: rate limit, security headers, CORS seen "
                                       f"{seen}, not as configured")
            post = measure_load(wrk, running, "/items", opts, POST_ORIGIN_LUA)
        for store, title in (("sqlite", "SQLite"), ("redis", "Redis")):
            on, off = post[f"{store}-on"], post[f"{store}-off"]
            value, base = median_rps(on), median_rps(off)
            target = TARGETS[store]
            figures.append(Figure(
                f"post_rps_protected_{store}",
                f"10. POST, rate limit + headers + CORS + compression, {title}",
                value, "req/s", base, f"all off, {title}", value / base, f">= {target}x", "",
                judge(value / base, target, None, True),
                {"round_ratios": round_ratios(on, off), "on": load_details(on),
                 "off": load_details(off),
                 "non_2xx_on": sum(r.non_2xx for r in on)},
            ))
    finally:
        for label in labels:
            if labels[label][0]:
                delete_redis_prefix(opts.redis_url, f"{prefix}_{label}")
    return figures


def _protection_headers(port: int) -> tuple[bool, bool, bool]:
    """Whether a `POST /items` from ORIGIN is answered with `RateLimit-Limit`, the security
    headers and the CORS allow header."""
    conn = http.client.HTTPConnection(HOST, port, timeout=5.0)
    try:
        conn.request("POST", "/items", body=POST_BODY,
                     headers={"Content-Type": "application/json", "Origin": ORIGIN})
        response = conn.getresponse()
        response.read()
        return (response.getheader("ratelimit-limit") is not None,
                response.getheader("x-content-type-options") is not None,
                response.getheader("access-control-allow-origin") == ORIGIN)
    finally:
        conn.close()
