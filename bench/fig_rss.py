"""Figure 5: idle RSS of `motia start` on examples/resources against the bare Starlette app."""

from __future__ import annotations

import json
import time
from pathlib import Path

from harness import (
    EXAMPLE_PROJECT,
    POST_BODY,
    Figure,
    http_request,
    judge,
    motia_argv,
    motia_env,
    servers,
    uvicorn_argv,
)
from procs import rss_mb


def bench_rss(workdir: Path) -> list[Figure]:
    print("[5] idle RSS", flush=True)
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("motia-example", motia_argv(EXAMPLE_PROJECT, "{port}"), motia_env(workdir / "rss-data"),
         "/__motia/health"),
        ("starlette-rss", uvicorn_argv("starlette_app", "{port}"), None, "/hello"),
        ("raw-asgi-rss", uvicorn_argv("raw_asgi_app", "{port}"), None, "/hello"),
    ]
    with servers(specs, workdir) as running:
        motia = running["motia-example"]
        for _ in range(20):
            status, body = http_request(motia.port, "POST", "/resources",
                                        b'{"name":"report","kind":"document"}')
            if status != 201:
                raise RuntimeError(f"example POST /resources answered {status}: {body[:200]!r}")
            rid = json.loads(body)["id"]
            http_request(motia.port, "GET", f"/resources/{rid}")
        http_request(motia.port, "GET", "/resources/missing")
        for name in ("starlette-rss", "raw-asgi-rss"):
            for _ in range(20):
                http_request(running[name].port, "GET", "/hello")
                http_request(running[name].port, "POST", "/items", POST_BODY)
        time.sleep(2.0)  # let the example's event chain finish and the servers go idle
        values = {name: rss_mb(server.proc.pid) for name, server in running.items()}
    print("  " + "  ".join(f"{k} {v:.1f} MB" for k, v in values.items()), flush=True)
    motia_mb, star_mb = values["motia-example"], values["starlette-rss"]
    return [
        Figure("idle_rss_mb", "5. idle RSS, example project", motia_mb, "MB", star_mb,
               "Starlette", motia_mb / star_mb, "<= 60 MB", "",
               judge(motia_mb, 60.0, None, False), {k: round(v, 2) for k, v in values.items()}),
        Figure("idle_rss_vs_raw_asgi", "5b. idle RSS vs raw ASGI", motia_mb, "MB",
               values["raw-asgi-rss"], "raw ASGI", motia_mb / values["raw-asgi-rss"],
               "reference", ""),
    ]
