"""Figure 13's probe of SQLite's single writer: loaded into the `motia start` processes
through PYTHONPATH, and only when MOTIA_BENCH_LOCK_DIR is set. It wraps the database's
transaction start and commit and keeps, per process, the seconds the write lock was held
(from `BEGIN IMMEDIATE` to the end of `COMMIT`), the CPU time the process's event loop
thread spent meanwhile (what the lock costs on an idle machine, where nothing preempts the
holder) and the transactions, as three doubles in `<MOTIA_BENCH_LOCK_DIR>/lock-<pid>`,
rewritten after each commit."""

from __future__ import annotations

import os
import struct
import time
from typing import Any

_FOLDER = os.environ.get("MOTIA_BENCH_LOCK_DIR", "")


def _install() -> None:
    from motia.adapters.sqlite.database import SqliteDatabase

    begin, commit = SqliteDatabase._begin, SqliteDatabase._commit
    # seconds held, CPU seconds meanwhile, transactions; start of the open one (wall, CPU)
    held = [0.0, 0.0, 0.0, 0.0, 0.0]
    fd = os.open(os.path.join(_FOLDER, f"lock-{os.getpid()}"), os.O_RDWR | os.O_CREAT, 0o644)

    def timed_begin(self: Any) -> Any:
        opening = self._tx is None
        tx = begin(self)
        if opening:
            held[3], held[4] = time.perf_counter(), time.thread_time()
        return tx

    def timed_commit(self: Any, tx: Any) -> None:
        ours = self._tx is tx
        commit(self, tx)
        if ours and held[3]:
            held[0] += time.perf_counter() - held[3]
            held[1] += time.thread_time() - held[4]
            held[2] += 1
            held[3] = 0.0
            os.pwrite(fd, struct.pack("<ddd", *held[:3]), 0)

    SqliteDatabase._begin = timed_begin  # type: ignore[method-assign]
    SqliteDatabase._commit = timed_commit  # type: ignore[method-assign]


if _FOLDER:
    _install()
