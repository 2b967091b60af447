"""Which SQLite errors mean the store itself is failing, and how to say so in one line."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

# Primary result codes (https://sqlite.org/rescode.html) that come from the file, the disk
# or another process rather than from the statement.
_PERM, _BUSY, _LOCKED, _NOMEM, _READONLY, _IOERR, _CORRUPT = 3, 5, 6, 7, 8, 10, 11
_FULL, _CANTOPEN, _PROTOCOL, _NOTADB = 13, 14, 15, 26
_STORE_FAILURES = {
    _PERM,
    _BUSY,
    _LOCKED,
    _NOMEM,
    _READONLY,
    _IOERR,
    _CORRUPT,
    _FULL,
    _CANTOPEN,
    _PROTOCOL,
    _NOTADB,
}


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_store_failure(exc: BaseException) -> bool:
    return _code(exc) in _STORE_FAILURES


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the lock this one needs (it may be free in a moment)."""
    return _code(exc) in (_BUSY, _LOCKED)


def is_corruption(exc: BaseException) -> bool:
    return _code(exc) in (_CORRUPT, _NOTADB)


def describe(exc: sqlite3.Error, path: Path) -> str:
    """What is wrong with the database at `path`, naming it, in one line."""
    code = _code(exc)
    if code == _FULL:
        return f"cannot write {path}: the disk is full ({_free_space(path.parent)} free)"
    if code == _CORRUPT:
        return (
            f"the database {path} is corrupted ({exc}): restore a backup or move the file "
            "away to start with an empty store"
        )
    if code == _NOTADB:
        return (
            f"{path} is not a SQLite database ({exc}): move it away or choose another "
            "data folder (dataDir in config.yml, or MOTIA_DATA_DIR)"
        )
    if code in (_READONLY, _PERM, _CANTOPEN):
        return (
            f"cannot open {path} for writing ({exc}): the file and its folder must be "
            "writable (or choose another data folder: dataDir in config.yml, or MOTIA_DATA_DIR)"
        )
    if code in (_BUSY, _LOCKED):
        return f"{path} is locked by another process ({exc})"
    if code == _IOERR:
        return f"cannot read or write {path}: I/O error ({exc})"
    return f"{path}: {exc}"


def _free_space(folder: Path) -> str:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return "unknown space"
    free = float(stats.f_bavail * stats.f_frsize)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if free < 1024 or unit == "GiB":
            return f"{free:.0f} {unit}" if unit == "bytes" else f"{free:.1f} {unit}"
        free /= 1024
    return f"{free:.1f} GiB"
