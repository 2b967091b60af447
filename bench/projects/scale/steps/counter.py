"""Handled events per process, in the folder named by MOTIA_BENCH_COUNT_DIR: one 8-byte file
per subscriber and process, rewritten in place after each event, so bench/run.py reads the
totals while every worker process runs."""

import os

_FOLDER = os.environ.get("MOTIA_BENCH_COUNT_DIR", "")
_files: dict[str, tuple[int, int, list[int]]] = {}  # name -> (pid, fd, [count])


def count(name: str) -> None:
    pid = os.getpid()
    entry = _files.get(name)
    if entry is None or entry[0] != pid:  # first event in this process
        path = os.path.join(_FOLDER, f"{name}-{pid}")
        entry = (pid, os.open(path, os.O_RDWR | os.O_CREAT, 0o644), [0])
        _files[name] = entry
    _pid, fd, counter = entry
    counter[0] += 1
    os.pwrite(fd, counter[0].to_bytes(8, "little"), 0)
