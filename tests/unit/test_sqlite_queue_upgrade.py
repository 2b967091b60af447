"""A SQLite queue file from before message priorities opens as it is: its messages keep
their order and gain priority 0, and new messages can be ranked."""

from __future__ import annotations

import sqlite3
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
