"""What the figures of bench/run.py share: paths, servers under test, HTTP probes, the
measuring child, and the Figure and Options records."""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procs import HOST, free_port, kill, pinned, run_json_child, spawn

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = Path(sys.executable).parent
API_PROJECT = BENCH / "projects" / "api"
HOP_PROJECT = BENCH / "projects" / "hop"
EVENTS_PROJECT = BENCH / "projects" / "events"
REDIS_PROJECT = BENCH / "projects" / "redis"
STORES_PROJECT = BENCH / "projects" / "stores"
EXAMPLE_PROJECT = REPO / "examples" / "resources"
BASELINE_DIR = BENCH / "baseline"
POST_LUA = BENCH / "post.lua"
POST_BODY = b'{"name":"widget","kind":"document","quantity":3}'

SERVER_CPU = "0"
CLIENT_CPU = "1"
ALL_CPUS = f"0-{(os.cpu_count() or 1) - 1}"  # figure 7: the workers may use every core
DEFAULT_REDIS_URL = os.environ.get("MOTIA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DEFAULT_DATABASE_URL = os.environ.get("MOTIA_BENCH_DATABASE_URL",
                                      "postgresql://postgres@127.0.0.1:5432/postgres")

def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for_200(proc: subprocess.Popen[bytes], port: int, path: str, timeout: float,
                 poll: float = 0.002) -> float:
    """Poll `GET path` until it answers 200; returns the perf_counter of that answer."""
    deadline = time.perf_counter() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering {path}")
        try:
            status, _ = http_request(port, "GET", path, timeout=1.0)
            if status == 200:
                return time.perf_counter()
        except (ConnectionError, OSError, http.client.HTTPException):
            pass
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no HTTP 200 from {path} within {timeout:g} s")
        time.sleep(poll)


def motia_env(data_dir: Path) -> dict[str, str]:
    """The environment for `motia start`: SQLite state in a temporary folder (the projects
    under bench/ and examples/ stay untouched)."""
    env = dict(os.environ)
    env["MOTIA_DATA_DIR"] = str(data_dir)
    env.pop("MOTIA_STATE_ADAPTER", None)
    env.pop("LOG_LEVEL", None)
    env.pop("MOTIA_LOG_LEVEL", None)
    return env


def motia_argv(project: Path, port: int | str) -> list[str]:
    return [str(VENV_BIN / "motia"), "start", "--dir", str(project), "--port", str(port),
            "--host", HOST]


def uvicorn_argv(module: str, port: int | str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"{module}:app", "--app-dir", str(BASELINE_DIR),
            "--host", HOST, "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--workers", "1", "--no-access-log", "--log-level", "warning"]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"


@contextlib.contextmanager
def servers(specs: Sequence[tuple[str, list[str], dict[str, str] | None, str]],
            workdir: Path, cpu: str = SERVER_CPU) -> Iterator[dict[str, Server]]:
    """Start every (name, argv-without-port-placeholder, env, ready path) on a free port, pinned
    to `cpu` (the server CPU); yields them once each answers 200 on its ready path; always
    kills them."""
    started: dict[str, Server] = {}
    try:
        for name, argv, env, _ready in specs:
            port = free_port()
            log = workdir / f"{name}.log"
            full = pinned([a.replace("{port}", str(port)) for a in argv], cpu)
            proc = spawn(full, env=env, log=log, cwd=REPO)
            started[name] = Server(name, proc, port, log)
        for name, _argv, _env, ready in specs:
            server = started[name]
            try:
                wait_for_200(server.proc, server.port, ready, timeout=30.0, poll=0.05)
            except Exception as exc:
                tail = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
                raise RuntimeError(f"{name} did not start: {exc}\n{tail}") from exc
        yield started
    finally:
        for server in started.values():
            kill(server.proc)


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    target: str = ""
    aim: str = ""
    status: str = ""  # PASS, AIM (target and aim met), FAIL, or "" for reference figures
    details: dict[str, Any] = field(default_factory=dict)


def judge(value: float, target: float, aim: float | None, higher_is_better: bool) -> str:
    def ok(limit: float) -> bool:
        return value >= limit if higher_is_better else value <= limit

    if not ok(target):
        return "FAIL"
    return "AIM" if aim is not None and ok(aim) else "PASS"


@dataclass
class Options:
    duration: float
    warmup: float
    rounds: int
    connections: int
    hop_count: int
    cold_runs: int
    events_count: int
    events_chunk: int
    events_rounds: int
    only: set[int]
    redis_url: str = DEFAULT_REDIS_URL
    database_url: str = DEFAULT_DATABASE_URL
    peers: str = ""  # figure 12: comma-separated systems, empty for all
    peers_count: int = 10000
    peers_hop_count: int = 1000
    peers_rate: float = 200.0
    peers_max_seconds: float = 30.0
    scheduled_count: int = 100000  # figure 14
    scheduled_window: float = 60.0
    pipeline_count: int = 500  # figure 16
    chat_count: int = 500  # figure 17



def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def run_worker(mode_args: list[str], what: str, timeout: float = 120.0) -> dict[str, Any]:
    """Run this script as a measuring child pinned to the server CPU; returns its JSON line."""
    argv = pinned([sys.executable, str(BENCH / "run.py"), *mode_args], SERVER_CPU)
    return run_json_child(argv, what, timeout, REPO)
