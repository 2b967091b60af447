"""`motia db migrate` creates and upgrades a project's schema on its own: running it again
changes nothing, `motia start` then serves the project without creating more, and an
unreachable database is a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, free_port, wait_for, write_project
from tests.postgres.conftest import tables_of
from tests.redis.support import PROJECT, handled_ids

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def migrate(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motia", "db", "migrate", "-d", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        cwd=project,
        check=False,
    )


def test_db_migrate_creates_the_schema_and_running_it_again_changes_nothing(
    tmp_path: Path, pg_env: dict[str, str], pg_schema: str, servers: Servers
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    assert tables_of(pg_schema) == set()

    first = migrate(project, pg_env)
    print(first.stdout, first.stderr)
    assert first.returncode == 0, first.stdout + first.stderr
    tables = tables_of(pg_schema)
    assert tables, "no table was created"
    assert any("version" in t or "migration" in t for t in tables), tables

    again = migrate(project, pg_env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert tables_of(pg_schema) == tables

    # The migrated schema serves a project.
    server = servers(project, env=pg_env)
    response = server.client.post("/orders", json={"id": "after-migrate"})
    assert response.status_code == 201, response.text
    wait_for(lambda: "after-migrate" in handled_ids(project), 10, what="the event handled")
    assert tables_of(pg_schema) == tables, "start created tables that migrate had not"


def test_db_migrate_against_an_unreachable_database_exits_1_with_a_clear_error(
    tmp_path: Path,
) -> None:
    port = free_port()
    project = write_project(tmp_path / "shop", PROJECT)
    done = migrate(project, {"MOTIA_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/db1"})
    output = done.stdout + done.stderr
    print(output)
    assert done.returncode == 1, output
    assert f"127.0.0.1:{port}" in output and "db1" in output, output
    assert "Traceback" not in output, output
