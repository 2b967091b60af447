"""Figure 11: POST req/s of a validating, state-writing, emitting step with OpenTelemetry
export on (to a local OTLP/HTTP receiver) against the same server with it off; 11b with
one trace in ten sampled (`parentbased_traceidratio` 0.1), as a busy service would run;
11c with Prometheus metrics on (`metrics.enabled`) instead."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from harness import (
    API_PROJECT,
    POST_BODY,
    POST_LUA,
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


@dataclass
class Received:
    posts: int = 0
    bytes: int = 0


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, Received]]:
    """Answers every OTLP/HTTP export with 200 and counts it (nothing is decoded: the
    figure measures the exporting server, not the collector)."""
    received = Received()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            size = int(self.headers.get("content-length", "0"))
            self.rfile.read(size)
            with lock:
                received.posts += 1
                received.bytes += size
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def bench_otel(wrk: str, opts: Options, workdir: Path) -> list[Figure]:
    """Both servers up at once on the server CPU, measured in interleaved rounds."""
    with otlp_receiver() as (endpoint, received):
        off_env, on_env, tenth_env, metrics_env = (
            motia_env(workdir / f"otel-{name}-data")
            for name in ("off", "on", "tenth", "metrics")
        )
        for env in (off_env, on_env, tenth_env, metrics_env):
            for name in [k for k in env if k.startswith("OTEL_")]:
                del env[name]
        on_env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
        tenth_env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_TRACES_SAMPLER="parentbased_traceidratio",
            OTEL_TRACES_SAMPLER_ARG="0.1",
        )
        metrics_env["MOTIA_METRICS_ENABLED"] = "true"
        specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
            ("motia", motia_argv(API_PROJECT, "{port}"), off_env, "/hello"),
            ("motia-otel", motia_argv(API_PROJECT, "{port}"), on_env, "/hello"),
            ("otel-0.1", motia_argv(API_PROJECT, "{port}"), tenth_env, "/hello"),
            ("metrics", motia_argv(API_PROJECT, "{port}"), metrics_env, "/hello"),
        ]
        with servers(specs, workdir) as running:
            for name, server in running.items():
                status, body = http_request(server.port, "POST", "/items", POST_BODY)
                if status != 201:
                    raise RuntimeError(f"{name} POST /items answered {status}: {body[:200]!r}")
            print("[11] POST validate + state + emit, OpenTelemetry export and metrics on vs "
                  "off", flush=True)
            post = measure_load(wrk, running, "/items", opts, POST_LUA)
        # The servers were stopped: what they still held was exported at shutdown.
        on, off = median_rps(post["motia-otel"]), median_rps(post["motia"])
        tenth = median_rps(post["otel-0.1"])
        metrics = median_rps(post["metrics"])
        return [Figure(
            "post_rps_otel", "11. POST step req/s, OTel export on", on, "req/s", off,
            "OTel off", on / off, ">= 0.85x", "", judge(on / off, 0.85, None, True),
            details={
                "round_ratios": round_ratios(post["motia-otel"], post["motia"]),
                "otel_on": load_details(post["motia-otel"]),
                "otel_off": load_details(post["motia"]),
                "otlp_posts_received": received.posts,
                "otlp_bytes_received": received.bytes,
            },
        ), Figure(
            "post_rps_otel_sampled", "11b. POST step req/s, OTel 1 in 10 sampled", tenth,
            "req/s", off, "OTel off", tenth / off, "reference", "",
            details={
                "round_ratios": round_ratios(post["otel-0.1"], post["motia"]),
                "otel_sampled_0_1": load_details(post["otel-0.1"]),
            },
        ), Figure(
            "post_rps_metrics", "11c. POST step req/s, metrics on", metrics, "req/s", off,
            "metrics off", metrics / off, ">= 0.95x", "", judge(metrics / off, 0.95, None, True),
            details={
                "round_ratios": round_ratios(post["metrics"], post["motia"]),
                "metrics_on": load_details(post["metrics"]),
            },
        )]
