"""CPU per request of figure 2's path with the network out of the way: `POST /items`
(validation, a state write, one emit) and its event's run, through Motia's own HTTP
protocol and app in one process, on SQLite.

Each request goes through the real protocol (httptools parser, header limits, the lean
cycle), `MotiaApp` and a runtime on a fresh copy of `projects/api`; the transport is a
stand-in that takes the answer and sends the connection's next request, `--connections`
at a time. The figure is the process's CPU time from the first request until every event
has been handled, divided by the requests. Without sockets and wrk it moves less with the
machine's load than the figures over HTTP, which makes it the quick before/after check:

    PYTHONPATH=src .venv/bin/python bench/inprocess_cpu.py --compare-src /tmp/before/src

(`git archive <commit> src | tar -x -C /tmp/before` makes the other copy). Each run is a
child process pinned to the server CPU; the copies alternate, round by round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import API_PROJECT, POST_BODY, SERVER_CPU
from procs import pinned

REQUEST = (
    b"POST /items HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(POST_BODY), POST_BODY)
)


class _Transport(asyncio.Transport):
    """Takes each answer whole (the protocol writes one per request) and reports it."""

    def __init__(self, answered: Any) -> None:
        super().__init__()
        self._answered = answered
        self._closed = False
        self.protocol: Any = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not bytes(data).startswith(b"HTTP/1.1 201 "):
            raise RuntimeError(f"unexpected answer: {bytes(data)[:200]!r}")
        self._answered()

    def close(self) -> None:
        self._closed = True

    def is_closing(self) -> bool:
        return self._closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_protocol(self) -> Any:
        return self.protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 3000)}.get(
            name, default
        )


async def _measure(requests: int, connections: int) -> float:
    """One run in this process; returns CPU microseconds per request and its event."""
    from uvicorn.server import ServerState

    from motia.http.app import MotiaApp
    from motia.http.http_protocol import HeaderLimits, LimitedHttpProtocol, ServerConfig
    from motia.runtime.runtime import Runtime
    from motia.settings import load_settings

    project = Path(tempfile.mkdtemp()) / "api"
    shutil.copytree(API_PROJECT, project, ignore=shutil.ignore_patterns(".motia"))
    runtime = Runtime.load(load_settings(project, "start", log_level="warn"))
    app = MotiaApp(runtime)
    await runtime.start()
    loop = asyncio.get_running_loop()
    config = ServerConfig(
        app,
        header_limits=HeaderLimits(),
        lifespan="off",
        log_level="critical",
        access_log=False,
        proxy_headers=False,
    )
    server_state = ServerState()
    to_send = requests
    answered = 0
    all_answered = loop.create_future()

    def connect() -> LimitedHttpProtocol:
        protocol = LimitedHttpProtocol(config, server_state, {}, loop)

        def on_answer() -> None:
            nonlocal to_send, answered
            answered += 1
            if to_send > 0:
                to_send -= 1
                loop.call_soon(protocol.data_received, REQUEST)
            elif answered == requests and not all_answered.done():
                all_answered.set_result(None)

        transport = _Transport(on_answer)
        transport.protocol = protocol
        protocol.connection_made(transport)
        return protocol

    started = time.process_time()
    for protocol in [connect() for _ in range(connections)]:
        to_send -= 1
        protocol.data_received(REQUEST)
    await all_answered
    while (await runtime.pending()).total:  # noqa: ASYNC110 - the count is asked, not heard
        await asyncio.sleep(0.001)
    used = time.process_time() - started
    await runtime.stop()
    shutil.rmtree(project.parent, ignore_errors=True)
    return used / requests * 1e6


def _run_child(src: Path, requests: int, connections: int) -> float:
    env = {**os.environ, "PYTHONPATH": f"{src.resolve()}{os.pathsep}{Path(__file__).parent}"}
    env.pop("MOTIA_LOG_LEVEL", None)
    argv = pinned(
        [sys.executable, __file__, "--child", "--requests", str(requests),
         "--connections", str(connections)],
        SERVER_CPU,
    )
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"run from {src} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="also run this copy of the package's source, alternating")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import uvloop

        print(f"{uvloop.run(_measure(args.requests, args.connections)):.2f}")
        return
    here = Path(__file__).resolve().parent.parent / "src"
    sources = {"this": here, **({"compare": args.compare_src} if args.compare_src else {})}
    results: dict[str, list[float]] = {name: [] for name in sources}
    for round_no in range(args.rounds):
        for name, src in sources.items():
            results[name].append(_run_child(src, args.requests, args.connections))
            print(f"round {round_no + 1} {name:8s} {results[name][-1]:7.1f} CPU us/request",
                  flush=True)
    for name, values in results.items():
        print(f"{name:8s} median {statistics.median(values):7.1f} CPU us/request "
              f"(min {min(values):.1f}, max {max(values):.1f}; {sources[name]})")


if __name__ == "__main__":
    main()
