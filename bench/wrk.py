"""wrk: found or installed, run bounded in time, its output parsed; load rounds over servers."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import CLIENT_CPU, Options, Server
from procs import CHILDREN, kill, pinned


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit(
            "bench: `wrk` is not installed and this is not root, so it cannot be installed "
            "here. Install it with `sudo apt-get install -y wrk` (Debian package `wrk`) and "
            "run again."
        )
    print("bench: installing wrk with apt-get ...", flush=True)
    install = ["apt-get", "install", "-y", "wrk"]
    result = subprocess.run(install, capture_output=True, timeout=600, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, timeout=600, check=False)
        result = subprocess.run(install, capture_output=True, timeout=600, check=False)
    found = shutil.which("wrk")
    if result.returncode != 0 or not found:
        raise SystemExit(
            "bench: `apt-get install -y wrk` failed:\n"
            + result.stderr.decode(errors="replace")[-2000:]
        )
    return found


@dataclass
class WrkResult:
    rps: float
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float | None
    p99_ms: float | None


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s*([\d.]+)", output)
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if rps is None or total is None:
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    return WrkResult(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        seconds=_latency_ms(total.group(2) + total.group(3)) / 1000,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        p50_ms=_latency_ms(p50.group(1)) if p50 else None,
        p99_ms=_latency_ms(p99.group(1)) if p99 else None,
    )


def run_wrk(wrk: str, url: str, seconds: float, connections: int,
            script: Path | None = None, cpu: str = CLIENT_CPU) -> WrkResult:
    duration = max(1, round(seconds))
    argv = [wrk, "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    proc = subprocess.Popen(pinned(argv, cpu), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    CHILDREN[proc.pid] = proc
    try:
        out, _ = proc.communicate(timeout=duration + 30)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"wrk against {url} did not finish within {duration + 30} s") from exc
    finally:
        kill(proc)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited with {proc.returncode}:\n{text}")
    return parse_wrk(text)


def measure_load(wrk: str, targets: dict[str, Server], path: str, opts: Options,
                 script: Path | None = None,
                 warm: dict[str, WrkResult] | None = None,
                 cpu: str = CLIENT_CPU) -> dict[str, list[WrkResult]]:
    """Warm every target up, then measure them in interleaved rounds (so slow drift of the
    machine spreads over all of them instead of hitting one)."""
    for name, server in targets.items():
        print(f"  warm-up {name} {path} ({opts.warmup:g} s)", flush=True)
        result = run_wrk(wrk, server.url(path), opts.warmup, opts.connections, script, cpu)
        if warm is not None:
            warm[name] = result
    results: dict[str, list[WrkResult]] = {name: [] for name in targets}
    for round_no in range(opts.rounds):
        for name, server in targets.items():
            time.sleep(0.5)
            result = run_wrk(wrk, server.url(path), opts.duration, opts.connections, script, cpu)
            results[name].append(result)
            print(f"  round {round_no + 1}/{opts.rounds} {name:10s} {path:7s} "
                  f"{result.rps:10.0f} req/s  p50 {result.p50_ms or 0:.2f} ms  "
                  f"p99 {result.p99_ms or 0:.2f} ms  non-2xx {result.non_2xx}  "
                  f"socket errors {result.socket_errors}", flush=True)
    return results


def median_rps(results: list[WrkResult]) -> float:
    return statistics.median(r.rps for r in results)


def load_details(results: list[WrkResult]) -> dict[str, Any]:
    return {
        "runs_rps": [round(r.rps, 1) for r in results],
        "p50_ms": statistics.median(r.p50_ms or 0.0 for r in results),
        "p99_ms": statistics.median(r.p99_ms or 0.0 for r in results),
        "non_2xx": sum(r.non_2xx for r in results),
        "socket_errors": sum(r.socket_errors for r in results),
    }


def round_ratios(motia: list[WrkResult], baseline: list[WrkResult]) -> list[float]:
    """motia/baseline per interleaved round: a view of the noise behind the median ratio."""
    return [round(m.rps / b.rps, 3) for m, b in zip(motia, baseline, strict=True)]
