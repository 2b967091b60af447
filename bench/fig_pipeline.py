"""Figure 16: flows/s end to end of the `pipeline` template against a trivial flow.

Both projects run under `motia start` (SQLite) pinned to the server CPU. A flow of the
pipeline is one `POST /batches` of three records that passes every check and is approved
at once: the JavaScript API step, three Python checks, three runs of the fan-in, the
routing, the Python summary and the TypeScript formatter (ten handler runs, two of them
in the Node runner). The trivial flow is one `POST /ping` whose event step writes one
state key. Each run posts `count` flows from 16 threads on the harness CPU and stops
the clock when every flow is done (`GET` answers it as reported / handled).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import BENCH, Figure, Options, http_request, motia_argv, motia_env, servers

TRIVIAL_PROJECT = BENCH / "projects" / "trivial_flow"
BATCH = json.dumps({"records": [{"id": "r1", "amount": 120, "country": "FR"},
                                {"id": "r2", "amount": 80, "country": "DE"},
                                {"id": "r3", "amount": 40, "country": "FR"}]}).encode()
THREADS = 16


def _pipeline_project(workdir: Path) -> Path:
    """A project made by `motia create --template pipeline`, with its npm packages
    installed (`npm install`, from npm's cache when it holds them)."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("figure 16 needs npm (and Node.js) for the pipeline's JS/TS steps")
    subprocess.run([sys.executable, "-m", "motia", "create", "pipe", "--template", "pipeline",
                    "--dir", str(workdir)], check=True, capture_output=True, timeout=60)
    project = workdir / "pipe"
    installed = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefer-offline"],
                               cwd=project, capture_output=True, text=True, timeout=300)
    if installed.returncode != 0:
        raise RuntimeError(f"npm install failed in {project}: {installed.stderr[-1000:]}")
    return project


def _run(port: int, count: int, post: str, body: bytes, done: Any, timeout: float) -> float:
    """Post `count` flows, wait until `done(port, id)` holds for each; returns flows/s."""
    def submit(_: int) -> str:
        status, answer = http_request(port, "POST", post, body, timeout=30.0)
        if status != 202:
            raise RuntimeError(f"POST {post} answered {status}: {answer[:200]!r}")
        return str(json.loads(answer)["id"])

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(submit, range(count)))
    deadline = started + timeout
    pending = list(reversed(ids))  # the last posted is usually the last done: look at it first
    while pending:
        if done(port, pending[0]):
            pending.pop(0)
            continue
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{len(pending)} of {count} flows not done within {timeout:g} s")
        time.sleep(0.02)
    return count / (time.perf_counter() - started)


def _reported(port: int, batch_id: str) -> bool:
    status, body = http_request(port, "GET", f"/batches/{batch_id}")
    return status == 200 and json.loads(body)["status"] == "reported"


def _handled(port: int, ping_id: str) -> bool:
    return http_request(port, "GET", f"/pongs/{ping_id}")[0] == 200


def bench_pipeline(opts: Options, workdir: Path) -> list[Figure]:
    count = opts.pipeline_count
    print(f"[16] pipeline template: {count} flows per run, {opts.rounds} round(s), "
          f"against a trivial flow", flush=True)
    project = _pipeline_project(workdir)
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("pipeline", motia_argv(project, "{port}"), motia_env(workdir / "pipeline-data"),
         "/__motia/health"),
        ("trivial", motia_argv(TRIVIAL_PROJECT, "{port}"), motia_env(workdir / "trivial-data"),
         "/__motia/health"),
    ]
    rates: dict[str, list[float]] = {"pipeline": [], "trivial": []}
    with servers(specs, workdir) as running:
        # Warm up both (the Node runner transpiles the TypeScript step on first use).
        _run(running["pipeline"].port, 20, "/batches", BATCH, _reported, 60.0)
        _run(running["trivial"].port, 20, "/ping", b"{}", _handled, 60.0)
        for round_no in range(opts.rounds):
            trivial = _run(running["trivial"].port, count, "/ping", b"{}", _handled, 120.0)
            pipeline = _run(running["pipeline"].port, count, "/batches", BATCH, _reported, 300.0)
            rates["trivial"].append(trivial)
            rates["pipeline"].append(pipeline)
            print(f"  round {round_no + 1}/{opts.rounds}: pipeline {pipeline:7.1f} flows/s, "
                  f"trivial flow {trivial:7.1f} flows/s", flush=True)
    pipeline_rate = statistics.median(rates["pipeline"])
    trivial_rate = statistics.median(rates["trivial"])
    return [
        Figure("pipeline_flows_per_s", "16. pipeline template, flows/s end to end",
               pipeline_rate, "flows/s", trivial_rate, "trivial flow (POST + 1 event)",
               pipeline_rate / trivial_rate, "reference", "", "",
               {"runs": rates, "count": count, "threads": THREADS}),
    ]
