"""Handled events per process, kept where bench/run.py can read them while every worker
process runs: one 8-byte file per subscriber and process, rewritten in place (`pwrite`)
after each event, in the folder named by MOTIA_BENCH_COUNT_DIR. Works on every store."""

import os

_FOLDER = os.environ.get("MOTIA_BENCH_COUNT_DIR", "")
_files: dict[str, tuple[int, int, list[int]]] = {}  # name -> (pid, fd, [count])


def count(name: str) -> None:
    pid = os.getpid()
    entry = _files.get(name)
    if entry is None or entry[0] != pid:  # first event here, or a forked worker
        path = os.path.join(_FOLDER, f"{name}-{pid}")
        entry = (pid, os.open(path, os.O_RDWR | os.O_CREAT, 0o644), [0])
        _files[name] = entry
    _pid, fd, counter = entry
    counter[0] += 1
    os.pwrite(fd, counter[0].to_bytes(8, "little"), 0)
