"""A SQLite queue file from before message priorities opens as it is: its messages keep
their order and gain priority 0, and new messages can be ranked."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

from motia.adapters.sqlite.database import SqliteDatabase
from motia.adapters.sqlite.queue import SqliteQueueAdapter
from tests.unit.test_queue_contract import LEASE, msg

OLD_SCHEMA = """
CREATE TABLE motia_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL,
    subscriber TEXT NOT NULL, topic TEXT NOT NULL, data BLOB NOT NULL,
    trace_id TEXT NOT NULL, flows TEXT NOT NULL, group_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, visible_at REAL NOT NULL, lease_token TEXT,
    lease_until REAL NOT NULL DEFAULT 0, enqueued_at REAL NOT NULL, last_error TEXT
);
INSERT INTO motia_queue (id, event_id, subscriber, topic, data, trace_id, flows,
    visible_at, enqueued_at) VALUES ('old', 'e', 'Sub', 'topic.a', '{}', 't', '[]', 0, 0);
"""


async def test_an_old_queue_file_gains_priorities(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(OLD_SCHEMA)
    database = SqliteDatabase(path)
    try:
        queue = SqliteQueueAdapter(database)
        SqliteQueueAdapter(database)  # a second opening finds the column there
        await queue.publish([msg(id="plain"), replace(msg(id="urgent"), priority=7)])
        leased = await queue.lease("Sub", 10, LEASE)
        assert [d.id for d in leased] == ["urgent", "old", "plain"]
    finally:
        database.close()


def _table_sql(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'motia_queue'"
        ).fetchone()
    return str(row[0])


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'motia_queue' "
            "AND name LIKE 'motia_%'"
        ).fetchall()
    return {str(row[0]) for row in rows}


def _old_file_with_backlog(path: Path) -> None:
    """A queue made with `seq` AUTOINCREMENT: one message leased (attempt 1 counted), two
    waiting, the newest of all deleted (an AUTOINCREMENT table never reuses its seq)."""
    with sqlite3.connect(path) as connection:
        connection.executescript(OLD_SCHEMA)
        for id_ in ("second", "third", "gone"):
            connection.execute(
                "INSERT INTO motia_queue (id, event_id, subscriber, topic, data, trace_id, "
                "flows, visible_at, enqueued_at) VALUES (?, 'e', 'Sub', 'topic.a', '{}', 't', "
                "'[]', 0, 0)",
                (id_,),
            )
        connection.execute("DELETE FROM motia_queue WHERE id = 'gone'")
        connection.execute(
            "UPDATE motia_queue SET attempts = 1, lease_token = 'held', lease_until = 1e12 "
            "WHERE id = 'old'"
        )


async def test_an_autoincrement_queue_is_rebuilt_without_it(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    _old_file_with_backlog(path)
    assert "AUTOINCREMENT" in _table_sql(path).upper()
    database = SqliteDatabase(path)
    try:
        queue = SqliteQueueAdapter(database)
        assert "AUTOINCREMENT" not in _table_sql(path).upper()
        assert _indexes(path) == {
            "motia_queue_by_subscriber",
            "motia_queue_by_group",
            "motia_queue_by_priority",
        }
        rows = database.query("SELECT seq, id, attempts, lease_token FROM motia_queue ORDER BY seq")
        assert rows == [(1, "old", 1, "held"), (2, "second", 0, None), (3, "third", 0, None)]
        SqliteQueueAdapter(database)  # opened again: nothing left to rebuild
        await queue.publish([msg(id="new")])
        leased = await queue.lease("Sub", 10, LEASE)
        assert [d.id for d in leased] == ["second", "third", "new"]  # "old" is still held
        new_seq = database.query_one("SELECT seq FROM motia_queue WHERE id = 'new'")
        assert new_seq is not None and new_seq[0] > 3
    finally:
        database.close()


async def test_processes_opening_an_old_file_at_once_rebuild_it_once(tmp_path: Path) -> None:
    """Two connections (as two processes sharing the file) open an old queue together: one
    rebuilds it under the write lock, the other then finds nothing to do."""
    path = tmp_path / "motia.db"
    _old_file_with_backlog(path)
    databases = [SqliteDatabase(path), SqliteDatabase(path)]
    try:
        start = threading.Barrier(2)

        def open_queue(database: SqliteDatabase) -> None:
            start.wait()
            SqliteQueueAdapter(database)

        threads = [threading.Thread(target=open_queue, args=(d,)) for d in databases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert "AUTOINCREMENT" not in _table_sql(path).upper()
        ids = databases[1].query("SELECT id FROM motia_queue ORDER BY seq")
        assert ids == [("old",), ("second",), ("third",)]
    finally:
        for database in databases:
            database.close()


def test_an_upgrade_that_is_no_longer_needed_changes_nothing(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "motia.db")
    try:
        assert database.upgrade(lambda: False, ["CREATE TABLE never (x)"]) is False
        assert database.query("SELECT name FROM sqlite_master WHERE name = 'never'") == []
        assert database.upgrade(lambda: True, ["CREATE TABLE made (x)"]) is True
        assert database.query("SELECT name FROM sqlite_master WHERE name = 'made'") == [("made",)]
    finally:
        database.close()
