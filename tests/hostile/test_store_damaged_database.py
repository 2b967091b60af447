"""A damaged store under a real `motia start`: a corrupted copy of a real database, a file
that is not a database, a read-only data folder. Each is refused at start with one line
naming the path (no traceback, exit status 1); corruption found while running turns
readiness to 503 and API steps that write answer 503 instead of accepting work."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ServerProcess, wait_for, write_project
from tests.hostile.support import overwrite_pages, remount_read_only, small_disk

PROJECT: dict[str, str] = {
    "steps/__init__.py": "",
    "steps/create_note_step.py": """
        config = {
            "type": "api", "name": "CreateNote", "method": "POST", "path": "/notes",
            "emits": ["note.created"], "flows": ["notes"],
        }
        async def handler(req, ctx):
            note = req["body"]
            await ctx.state.set("notes", note["id"], note)
            await ctx.emit({"topic": "note.created", "data": {"id": note["id"]}})
            return {"status": 202, "body": {"id": note["id"]}}
    """,
    "steps/index_note_step.py": """
        config = {"type": "event", "name": "IndexNote", "subscribes": ["note.created"],
                  "flows": ["notes"]}
        async def handler(data, ctx):
            await ctx.state.set("indexed", data["id"], {"id": data["id"]})
    """,
    "steps/indexed_step.py": """
        config = {"type": "api", "name": "Indexed", "method": "GET", "path": "/indexed",
                  "flows": ["notes"]}
        async def handler(req, ctx):
            return {"status": 200, "body": {"count": len(await ctx.state.get_group("indexed"))}}
    """,
}
NOTES = 300


def real_database(project: Path, data: Path, servers: Callable[..., ServerProcess]) -> Path:
    """Run the project once, write NOTES notes through it, stop it cleanly: the database
    it leaves behind (state, queue, logs) is the one the tests damage."""
    server = servers(project, env={"MOTIA_DATA_DIR": str(data)})
    for i in range(NOTES):
        note = {"id": f"note-{i:04d}", "text": f"note {i} " * 40}
        assert server.client.post("/notes", json=note).status_code == 202
    wait_for(lambda: server.client.get("/indexed").json()["count"] == NOTES, timeout=30)
    assert server.stop() == 0
    database = data / "motia.db"
    assert database.stat().st_size > 50 * 4096
    return database


def start_refused(project: Path, data: Path) -> str:
    """`motia start` on `data`: it must exit 1 by itself; returns what it printed."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "motia", "start", "--dir", str(project), "--port", "0"],
        env={**os.environ, "MOTIA_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    print(f"refused in {time.monotonic() - started:.2f} s: {output}")
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    assert len(output.splitlines()) == 1, output
    return output


def test_a_corrupted_copy_of_a_real_database_is_refused_at_start(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "notes", PROJECT)
    database = real_database(project, tmp_path / "data", server_factory)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    shutil.copy(database, damaged / "motia.db")
    overwrite_pages(damaged / "motia.db", fraction=0.1)

    output = start_refused(project, damaged)
    assert output.startswith(f"error: the database {damaged / 'motia.db'} is corrupted"), output
    assert "restore a backup or move the file away" in output

    # The intact original still starts and still holds everything.
    server = server_factory(project, env={"MOTIA_DATA_DIR": str(tmp_path / "data")})
    assert server.client.get("/indexed").json()["count"] == NOTES


def test_a_file_that_is_not_a_database_is_refused_at_start(tmp_path: Path) -> None:
    project = write_project(tmp_path / "notes", PROJECT)
    data = tmp_path / "data"
    data.mkdir()
    (data / "motia.db").write_text("name,quantity\nwidget,3\n" * 1000)

    output = start_refused(project, data)
    assert output.startswith(f"error: {data / 'motia.db'} is not a SQLite database"), output


def test_a_read_only_data_folder_is_refused_at_start(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "notes", PROJECT)
    with small_disk(tmp_path / "disk", "16m") as disk:
        real_database(project, disk / "data", server_factory)
        remount_read_only(disk)

        output = start_refused(project, disk / "data")
        assert output.startswith(f"error: cannot open {disk / 'data' / 'motia.db'} for writing")
        # A data folder that does not exist yet and cannot be made.
        output = start_refused(project, disk / "elsewhere")
        assert output.startswith(f"error: cannot create the data folder {disk / 'elsewhere'}")
        assert "Read-only file system" in output


def test_corruption_found_while_running_turns_readiness_and_writes_to_503(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "notes", PROJECT)
    data = tmp_path / "data"
    real_database(project, data, server_factory)
    server = server_factory(project, env={"MOTIA_DATA_DIR": str(data)})
    assert server.client.post("/notes", json={"id": "before", "text": "-"}).status_code == 202

    # Another process writes (so the server's page cache is stale), folds the log into
    # the file, and then the file's pages are overwritten under the running server.
    with sqlite3.connect(data / "motia.db") as other:
        other.execute("CREATE TABLE IF NOT EXISTS scratch (x)")
        other.execute("INSERT INTO scratch VALUES (1)")
    with sqlite3.connect(data / "motia.db") as other:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    overwrite_pages(data / "motia.db", fraction=0.9)

    def refused() -> bool:
        response = server.client.post("/notes", json={"id": "after", "text": "-"})
        assert response.status_code in (202, 503), response.text
        return response.status_code == 503

    wait_for(refused, timeout=15)
    response = server.client.post("/notes", json={"id": "after-2", "text": "-"})
    assert response.status_code == 503
    assert response.json()["traceId"] == response.headers["x-trace-id"]
    health = server.client.get("/__motia/ready")
    assert health.status_code == 503
    assert "is corrupted" in health.json()["problem"]
    assert str(data / "motia.db") in health.json()["problem"]
    records = [json.loads(line) for line in server.output().splitlines() if line.strip()]
    assert any("is corrupted" in json.dumps(r) for r in records)
    server.stop(signal.SIGTERM)

    # The next start finds the damage before serving anything.
    output = start_refused(project, data)
    assert "is corrupted" in output
