"""CPU time per request of figure 11's servers: `POST /items` with OpenTelemetry export on,
with metrics on, and with both off.

Wall-clock req/s moves with whatever else runs on the machine; the CPU time the server
process spends per request (utime + stime of every thread, from `/proc/PID/stat`, counted
until the process is idle again so the event runs and the span export are included)
moves much less. Run it beside figure 11:

    python bench/otel_cpu.py --rounds 3 --duration 5

`--compare-src DIR` runs the same three servers from another copy of the package's source
too (`git archive <commit> src | tar -x -C DIR`, then `--compare-src DIR/src`), in the
same interleaved rounds: a before/after comparison that shares the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from fig_otel import otlp_receiver
from harness import API_PROJECT, POST_BODY, POST_LUA, http_request, motia_argv, motia_env, servers
from wrk import ensure_wrk, run_wrk

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def settled_cpu(pid: int, limit: float = 10.0) -> float:
    """The process's CPU time once it stopped using any for 0.3 s (bounded by `limit`)."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu_seconds(pid)
        if now == last:
            return now
        last = now
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--servers", default="off,otel,metrics",
                        help="which of off, otel, metrics (all three)")
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="also run each server from this source folder (before/after)")
    args = parser.parse_args()
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp, otlp_receiver() as (endpoint, _received):
        workdir = Path(tmp)
        sources: dict[str, Path | None] = {"": None}
        if args.compare_src is not None:
            sources["before-"] = args.compare_src
        envs: dict[str, dict[str, str]] = {}
        for prefix, src in sources.items():
            for kind in args.servers.split(","):
                name = prefix + kind
                env = envs[name] = motia_env(workdir / name)
                for key in [k for k in env if k.startswith("OTEL_")]:
                    del env[key]
                if kind == "otel":
                    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
                elif kind == "metrics":
                    env["MOTIA_METRICS_ENABLED"] = "true"
                if src is not None:
                    env["PYTHONPATH"] = str(src.resolve())
        specs = [(name, motia_argv(API_PROJECT, "{port}"), env, "/hello")
                 for name, env in envs.items()]
        per_request: dict[str, list[float]] = {name: [] for name in envs}
        with servers(specs, workdir) as running:
            for name, server in running.items():
                status, _ = http_request(server.port, "POST", "/items", POST_BODY)
                assert status == 201, (name, status)
                run_wrk(wrk, server.url("/items"), 1, args.connections, POST_LUA)
            for round_no in range(args.rounds):
                for name, server in running.items():
                    pid = server.proc.pid
                    before = settled_cpu(pid)
                    result = run_wrk(wrk, server.url("/items"), args.duration,
                                     args.connections, POST_LUA)
                    used = settled_cpu(pid) - before
                    per_request[name].append(used / result.requests * 1e6)
                    print(f"round {round_no + 1} {name:15s} {result.rps:8.0f} req/s "
                          f"{per_request[name][-1]:6.1f} CPU us/request", flush=True)
    for name, values in per_request.items():
        prefix = "before-" if name.startswith("before-") else ""
        off = statistics.median(per_request.get(prefix + "off", [0.0]))
        median = statistics.median(values)
        print(f"{name:15s} median {median:6.1f} CPU us/request  (+{median - off:5.1f} vs off)")


if __name__ == "__main__":
    main()
