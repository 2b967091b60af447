"""What every system's trivial handler does in figure 12 (bench/fig_peers.py), and how the
harness reads it back. The handler takes `time.time()` first (the hop's end), then appends
`sent started` to a file of its process when the producer stamped the event (`sent` > 0),
and rewrites its process's handled count in place (one `pwrite`). Files live in the folder
named by MOTIA_BENCH_COUNT_DIR; threads of one worker process share them under a lock."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

_lock = threading.Lock()
_files: dict[str, int] = {}  # "pid", "count", "hops" -> pid, then file descriptors
_count = [0]


def _open_files() -> None:
    folder = os.environ.get("MOTIA_BENCH_COUNT_DIR", "")
    if not folder:
        raise RuntimeError("MOTIA_BENCH_COUNT_DIR is not set: nowhere to count handled events")
    pid = os.getpid()
    _files["count"] = os.open(os.path.join(folder, f"count-{pid}"),
                              os.O_RDWR | os.O_CREAT, 0o644)
    _files["hops"] = os.open(os.path.join(folder, f"hops-{pid}"),
                             os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    _files["pid"] = pid
    _count[0] = 0


def handled(sent: float) -> None:
    """Called first thing by every trivial handler of the figure."""
    started = time.time()
    with _lock:
        if _files.get("pid") != os.getpid():  # first event here, or a forked worker
            _open_files()
        if sent > 0:
            os.write(_files["hops"], f"{sent!r} {started!r}\n".encode())
        _count[0] += 1
        os.pwrite(_files["count"], _count[0].to_bytes(8, "little"), 0)


def total(folder: Path) -> int:
    """Events handled so far, summed over every worker process."""
    count = 0
    for path in folder.glob("count-*"):
        with contextlib.suppress(OSError):
            count += int.from_bytes(path.read_bytes()[:8], "little")
    return count


def hop_latencies_ms(folder: Path) -> list[float]:
    """Handler start minus enqueue time of every stamped event, in ms, sorted."""
    latencies: list[float] = []
    for path in folder.glob("hops-*"):
        for line in path.read_text().splitlines():
            sent, started = line.split()
            latencies.append((float(started) - float(sent)) * 1000)
    latencies.sort()
    return latencies


def hop_count(folder: Path) -> int:
    return sum(path.read_bytes().count(b"\n") for path in folder.glob("hops-*"))


def handled_here() -> int:
    """Events handled by this process (the in-process measurement reads it without I/O)."""
    return _count[0]
