"""Random bytes for ids and lease tokens, from the OS's generator, drawn in blocks: a
system call per id (several per request) costs more than the id."""

from __future__ import annotations

import os
import threading

_POOL_BYTES = 4096  # drawn from the OS at a time


class _RandomPool:
    """`os.urandom` bytes handed out in slices, each slice to one caller only."""

    def __init__(self) -> None:
        self._forget()

    def _forget(self) -> None:
        # A new lock too: after a fork, another thread may have held the old one.
        self._lock = threading.Lock()
        self._bytes = b""
        self._at = 0

    def hex(self, count: int) -> str:
        with self._lock:
            at = self._at
            end = at + count
            if end > len(self._bytes):
                self._bytes = os.urandom(max(_POOL_BYTES, count))
                at, end = 0, count
            self._at = end
            return self._bytes[at:end].hex()


_pool = _RandomPool()
# A forked process (`--workers`) must not hand out its parent's bytes again.
os.register_at_fork(after_in_child=_pool._forget)


def random_hex(count: int) -> str:
    """`count` random bytes from the OS's generator, as hex."""
    return _pool.hex(count)
