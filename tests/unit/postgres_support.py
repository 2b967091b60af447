"""PostgreSQL for the test suites: a reachability check, a schema of its own per test
(dropped afterwards), and pools closed inside the event loop that opened them.

The server is `MOTIA_TEST_DATABASE_URL` (default postgresql://postgres@127.0.0.1:5432/postgres).
When it cannot be reached the PostgreSQL cases are skipped, or fail when the CI
environment variable is set."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from motia.adapters.postgres.database import PostgresDatabase
from tests.conftest import LOOP_CLEANUPS

DATABASE_URL = os.environ.get(
    "MOTIA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_SCHEMA_FILE = ".postgres-schema"
_reachable: bool | None = None
_open: list[PostgresDatabase] = []


def require_postgres() -> None:
    """Skip (fail, in CI) the current test when the PostgreSQL server is not reachable."""
    global _reachable
    if _reachable is None:
        try:
            with psycopg.connect(DATABASE_URL, connect_timeout=2) as connection:
                connection.execute("SELECT 1")
            _reachable = True
        except psycopg.Error:
            _reachable = False
    if not _reachable:
        reason = f"no PostgreSQL server reachable at {DATABASE_URL}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI is set, so the PostgreSQL tests must run")
        pytest.skip(f"{reason} (start PostgreSQL or set MOTIA_TEST_DATABASE_URL)")


def schema_for(tmp: Path) -> str:
    """The test's own schema, the same for every backend the test opens."""
    path = tmp / _SCHEMA_FILE
    if not path.exists():
        path.write_text(f"test_{uuid4().hex}")
    return path.read_text()


def track(database: PostgresDatabase) -> PostgresDatabase:
    """Have `close_pools()` close a database's pool in the loop that used it."""
    _open.append(database)
    return database


async def close_pools() -> None:
    while _open:
        await _open.pop().close()


LOOP_CLEANUPS.append(close_pools)


def drop_schema(schema: str) -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        # Connections a test left behind (its loop ended) would hold the drop forever.
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (f"motia:{schema}"[:63],),
        )
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


def cleanup(tmp: Path) -> None:
    """Drop the schema a test used under `tmp`, if it used one."""
    path = tmp / _SCHEMA_FILE
    if path.exists():
        drop_schema(path.read_text())


@dataclass
class OwnPostgres:
    """A throwaway cluster (initdb) on a free port, run by the `postgres` system user when
    the tests run as root (the server refuses root)."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls) -> OwnPostgres:
        from tests.conftest import free_port

        folder = Path(tempfile.mkdtemp(prefix="motia-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        server = cls(folder, free_port())
        server._run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust")
        server.start()
        return server

    def _run(self, tool: str, *args: str) -> None:
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}")) or [tool]
        command = [found[-1], *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"
        log = str(self.folder / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-l", log, "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
