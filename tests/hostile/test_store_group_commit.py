"""The cause of the hang on a full disk, pinned down: when SQLite rolls a group-commit
transaction back by itself, every writer that shared it gets `StoreUnavailable` at once
(none is left waiting), and the next transaction works again once space returns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from motia.adapters.sqlite.database import SqliteDatabase
from motia.errors import StoreUnavailable
from tests.hostile.support import fill, small_disk


async def test_every_writer_of_a_transaction_refused_by_a_full_disk_gets_the_error(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk", "4m") as disk:
        database = SqliteDatabase(disk / "data" / "motia.db")
        database.execute_script("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")

        try:
            await database.write("INSERT INTO blobs (data) VALUES (?)", (b"x" * 1000,))
            filler = fill(disk)
            # Twenty writers in one loop turn share one transaction, too big for the disk.
            writers = [
                database.write("INSERT INTO blobs (data) VALUES (?)", (b"y" * 200_000,))
                for _ in range(20)
            ]
            async with asyncio.timeout(10):  # the bug: these waited forever
                outcomes = await asyncio.gather(*writers, return_exceptions=True)
            assert all(isinstance(o, StoreUnavailable) for o in outcomes), outcomes
            assert "the disk is full" in str(outcomes[0])
            assert database.problem is not None
            with pytest.raises(StoreUnavailable):
                await database.probe()

            filler.unlink()
            async with asyncio.timeout(10):
                await database.write("INSERT INTO blobs (data) VALUES (?)", (b"z" * 200_000,))
            rows = database.query("SELECT length(data) FROM blobs ORDER BY id")
            assert rows == [(1000,), (200_000,)]  # nothing of the refused transaction
        finally:
            database.close()
