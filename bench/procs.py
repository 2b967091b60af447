"""Child processes of the benchmarks: one registry, each child in a session of its own and
killed on every way out; CPU pinning, free ports, RSS, uvloop and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

HOST = "127.0.0.1"  # every server and client of the benchmarks stays on loopback

CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def kill(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop one child (and its process group, which it leads): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
    CHILDREN.pop(proc.pid, None)


def kill_all() -> None:
    for proc in list(CHILDREN.values()):
        with contextlib.suppress(Exception):
            kill(proc, grace=2.0)


def on_signal(signum: int, _frame: FrameType | None) -> None:
    kill_all()
    raise SystemExit(128 + signum)


def spawn(argv: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a child in its own session (so it and anything it starts can be killed together)."""
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        if log is not None and not isinstance(out, int):
            out.close()
    CHILDREN[proc.pid] = proc
    return proc


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(argv: Sequence[str], cpu: str) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if can_pin() else list(argv)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])

def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of /proc/PID/status: VmRSS (all resident memory), RssAnon (heap and
    other private memory) or RssFile (mapped files: the database's memory map)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def percentile(ordered: list[float], pct: float) -> float:
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run_in_loop(coro: Any) -> dict[str, Any]:
    """Run a measuring coroutine on uvloop (as `motia start` does) when it is installed."""
    try:
        import uvloop

        loop_name = "uvloop"
        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        loop_name = "asyncio"
        runner = asyncio.Runner()
    with runner:
        result: dict[str, Any] = runner.run(coro)
    result["loop"] = loop_name
    return result


def cpu_busy(seconds: float = 1.0) -> float:
    """The share of all CPUs busy over `seconds` (from /proc/stat); other work on the machine
    skews every figure, so it is reported with them."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    spent = total1 - total0
    return 0.0 if spent <= 0 else 1.0 - (idle1 - idle0) / spent


def run_json_child(argv: Sequence[str], what: str, timeout: float, cwd: Path,
                   after: Callable[[], None] | None = None) -> dict[str, Any]:
    """Run a measuring child to its end (bounded by `timeout`) and return the JSON object on
    the last line it prints; `after` cleans up whatever the child left behind."""
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
    CHILDREN[proc.pid] = proc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what} did not finish within {timeout:g} s") from exc
    finally:
        kill(proc)
        if after is not None:
            after()
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result
