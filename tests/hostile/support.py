"""Real hostile conditions for the store tests: a small tmpfs that fills up, a read-only
mount, a database file with pages overwritten."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.tools import require, unavailable

PAGE = 4096


def _mount(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        unavailable(f"`{' '.join(args)}` failed ({result.stderr.strip()}); this test needs root")


@contextlib.contextmanager
def small_disk(where: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where`: a real filesystem that really fills up."""
    require("mount")
    if os.geteuid() != 0:
        unavailable("mounting a small tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    _mount(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)])
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def remount_read_only(where: Path) -> None:
    _mount(["mount", "-o", "remount,ro", str(where)])


def fill(disk: Path, name: str = "filler") -> Path:
    """Write zeros into `disk/name` until the filesystem refuses (ENOSPC). Unbuffered: a
    buffered file would try its unwritten tail again at close, and fail there."""
    path = reserve(disk, name)
    chunk = b"\0" * 65536
    with path.open("ab", buffering=0) as out:
        try:
            while out.write(chunk):
                pass
        except OSError:
            pass
    return path


def reserve(disk: Path, name: str = "filler") -> Path:
    path = disk / name
    path.touch()
    return path


def free_bytes(disk: Path) -> int:
    stats = os.statvfs(disk)
    return stats.f_bavail * stats.f_frsize


def overwrite_pages(database: Path, fraction: float, seed: int = 21) -> list[int]:
    """Overwrite a random `fraction` of the pages after the first (the header stays, so
    the file is still recognisably SQLite) with random bytes; returns the page numbers."""
    pages = database.stat().st_size // PAGE
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(1, pages), max(1, int((pages - 1) * fraction))))
    with database.open("r+b") as out:
        for page in chosen:
            out.seek(page * PAGE)
            out.write(rng.randbytes(PAGE))
    return chosen
