"""Random bytes for ids and lease tokens, from the OS's generator, drawn in blocks: a
system call per id (several per request) costs more than the id."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator

_SLOT_BYTES = 16  # every draw takes a slot of this many bytes, however few it uses
_SLOTS = 256  # slots per block: one system call per 256 ids


class _RandomPool:
    """Blocks of `os.urandom` bytes, held as hex, handed out a slot at a time. A block and
    the counter of its slots are read together, and taking the counter's next value is
    atomic: no slot goes to two callers, threads included, without a lock on the way."""

    def __init__(self) -> None:
        self._forget()

    def _forget(self) -> None:
        # A new lock too: after a fork, another thread may have held the old one.
        self._lock = threading.Lock()
        self._block: tuple[str, Iterator[int]] = ("", itertools.count(_SLOTS))  # spent

    def hex(self, count: int) -> str:
        """`count` random bytes from the OS's generator, as hex."""
        if count > _SLOT_BYTES:
            return os.urandom(count).hex()
        while True:
            block = self._block
            slot = next(block[1])
            if slot < _SLOTS:
                at = slot * 2 * _SLOT_BYTES
                return block[0][at : at + 2 * count]
            self._refill(block)

    def _refill(self, spent: tuple[str, Iterator[int]]) -> None:
        with self._lock:
            if self._block is spent:  # another thread may have refilled it meanwhile
                self._block = (os.urandom(_SLOTS * _SLOT_BYTES).hex(), itertools.count())


_pool = _RandomPool()
# A forked process (`--workers`) must not hand out its parent's bytes again.
os.register_at_fork(after_in_child=_pool._forget)

random_hex = _pool.hex
