"""Figure 2's `POST /items` under `motia start` from two copies of the package's source,
in interleaved rounds: req/s, p50 and p99 latency, and the size of `motia.db-wal` at the
end of each run. For changes to how the SQLite store writes (the checkpointer, commits),
whose effect shows in the tail and in the write-ahead log more than in CPU time:

    git archive <commit> src | tar -x -C /tmp/before
    PYTHONPATH=src .venv/bin/python bench/wal_tail.py --compare-src /tmp/before/src

Each run starts a server with an empty data folder (pinned to the server CPU), warms it
up for 2 s with wrk, waits 1 s, then measures `--duration` seconds with wrk on the other
CPU, `-c64`; the server is stopped before the next run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import API_PROJECT, POST_LUA, motia_env, servers
from wrk import WrkResult, ensure_wrk, run_wrk

CONNECTIONS = 64


def one_run(wrk: str, src: Path, seconds: float, workdir: Path) -> tuple[WrkResult, int]:
    data = Path(tempfile.mkdtemp(dir=workdir))
    env = motia_env(data / "data")
    env["PYTHONPATH"] = str(src.resolve())
    argv = [sys.executable, "-m", "motia", "start", "--dir", str(API_PROJECT),
            "--port", "{port}", "--host", "127.0.0.1"]
    with servers([("motia", argv, env, "/hello")], data) as running:
        url = running["motia"].url("/items")
        run_wrk(wrk, url, 2, CONNECTIONS, POST_LUA)
        time.sleep(1)
        result = run_wrk(wrk, url, seconds, CONNECTIONS, POST_LUA)
        wal = data / "data" / "motia.db-wal"
        size = wal.stat().st_size if wal.exists() else 0
    return result, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="also run this copy of the package's source, alternating")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0)
    args = parser.parse_args()
    wrk = ensure_wrk()
    here = Path(__file__).resolve().parent.parent / "src"
    sources = {"this": here, **({"compare": args.compare_src} if args.compare_src else {})}
    results: dict[str, list[tuple[WrkResult, int]]] = {name: [] for name in sources}
    with tempfile.TemporaryDirectory(prefix="motia-wal-tail-") as tmp:
        for round_no in range(1, args.rounds + 1):
            for name, src in sources.items():
                result, wal = one_run(wrk, src, args.duration, Path(tmp))
                results[name].append((result, wal))
                print(f"round {round_no} {name:8s} {result.rps:8,.0f} req/s  p50 "
                      f"{result.p50_ms or 0:6.2f} ms  p99 {result.p99_ms or 0:6.2f} ms  "
                      f"WAL {wal / 2**20:5.1f} MiB", flush=True)
    for name, runs in results.items():
        rps = statistics.median(r.rps for r, _ in runs)
        p99 = statistics.median(r.p99_ms or 0 for r, _ in runs)
        wal = max(size for _, size in runs)
        print(f"{name:8s} median {rps:8,.0f} req/s  p99 {p99:6.2f} ms  largest WAL "
              f"{wal / 2**20:.1f} MiB ({sources[name]})")


if __name__ == "__main__":
    main()
