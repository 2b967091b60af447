"""Multi-process tests on PostgreSQL: real `motia start` processes on loopback sharing one
database.

Every test gets a schema of its own (`MOTIA_DATABASE_SCHEMA`) on the server at
`MOTIA_TEST_DATABASE_URL` (default postgresql://postgres@127.0.0.1:5432/postgres); the schema
is dropped afterwards. When that server cannot be reached the tests are skipped, or fail when
the CI environment variable is set. Tests that stop PostgreSQL run a cluster of their own
(`own_postgres`: `initdb` and `pg_ctl` in a temporary folder, on a spare port)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from uuid import uuid4

import pytest

# The process fixtures and the time bound are the Redis suite's: the same `motia start`
# children, stopped the same way (imported so that pytest finds them here too).
from tests.conftest import free_port
from tests.redis.conftest import _bounded_in_time, servers  # noqa: F401

DATABASE_URL = os.environ.get(
    "MOTIA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

_reachable: bool | None = None


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI is set, so the PostgreSQL multi-process tests must run")
    pytest.skip(reason)


def connect(url: str = DATABASE_URL, timeout: int = 2) -> object:
    """A psycopg connection in autocommit mode (the tests only inspect and drop schemas)."""
    import psycopg

    return psycopg.connect(url, connect_timeout=timeout, autocommit=True)


def query(sql: str, params: tuple[object, ...] = (), url: str = DATABASE_URL) -> list[tuple]:  # type: ignore[type-arg]
    with connect(url) as conn:  # type: ignore[attr-defined]
        cursor = conn.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def require_postgres() -> None:
    """Skip (fail, when CI is set) the test when the shared PostgreSQL cannot be reached."""
    global _reachable
    if _reachable is None:
        try:
            query("SELECT 1")
            _reachable = True
        except ImportError:
            unavailable("psycopg is not installed (pip install 'motia-python[postgres]')")
        except Exception:
            _reachable = False
    if not _reachable:
        where = urlparse(DATABASE_URL)
        unavailable(
            f"no PostgreSQL server reachable at {where.hostname}:{where.port or 5432} "
            "(start it, or point MOTIA_TEST_DATABASE_URL at one)"
        )


def tables_of(schema: str, url: str = DATABASE_URL) -> set[str]:
    rows = query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (schema,),
        url,
    )
    return {row[0] for row in rows}


def drop_schema(schema: str, url: str = DATABASE_URL) -> None:
    with contextlib.suppress(Exception):
        query(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', (), url)


@pytest.fixture(autouse=True)
def _only_postgres_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """The servers see the test's database settings only, never a store set in the shell."""
    for name in (
        "MOTIA_REDIS_URL",
        "REDIS_URL",
        "DATABASE_URL",
        "MOTIA_DATABASE_URL",
        "MOTIA_DATABASE_SCHEMA",
        "MOTIA_STATE_ADAPTER",
        "MOTIA_QUEUE_ADAPTER",
        "MOTIA_STREAMS_ADAPTER",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A schema name of the test's own on the shared server (the framework creates it);
    dropped after. Request it (or `pg_env`) before `servers`, so the servers stop first."""
    require_postgres()
    schema = f"test_mp_{uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        drop_schema(schema)


@pytest.fixture
def pg_env(pg_schema: str) -> dict[str, str]:
    """The environment that puts `motia start` on the shared PostgreSQL in the test's schema."""
    return {"MOTIA_DATABASE_URL": DATABASE_URL, "MOTIA_DATABASE_SCHEMA": pg_schema}


def postgres_bin(name: str) -> str | None:
    """A server program (initdb, pg_ctl): from PATH, else the newest Debian install."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class OwnPostgres:
    """A PostgreSQL cluster of the test's own in a temporary folder, on a spare port. As root
    the server programs run as the `postgres` user (the server refuses to run as root)."""

    port: int
    directory: Path
    initdb: str
    pg_ctl: str

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise AssertionError(
                f"{' '.join(argv)} exited with {done.returncode}:\n{done.stdout}{done.stderr}"
                f"\n{log[-3000:]}"
            )

    def create(self) -> None:
        self._run(
            self.initdb,
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run(
            self.pg_ctl,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server the way an operator would (`fast`: clients disconnected, a
        checkpoint, then exit); nothing when it is not running."""
        if (self.data / "postmaster.pid").exists():
            self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def ready(self) -> bool:
        try:
            query("SELECT 1", (), self.url)
            return True
        except Exception:
            return False


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        unavailable("initdb/pg_ctl not found (install the Debian package postgresql)")
        raise AssertionError("unreachable")
    try:
        import psycopg  # noqa: F401 - the tests talk to the cluster with it
    except ImportError:
        unavailable("psycopg is not installed (pip install 'motia-python[postgres]')")
    # Not under pytest's tmp_path: the `postgres` user must be able to enter the folder.
    directory = Path(tempfile.mkdtemp(prefix="motia-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = OwnPostgres(free_port(), directory, initdb, pg_ctl)
    try:
        server.create()
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def wait_postgres(server: OwnPostgres, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not server.ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"PostgreSQL on port {server.port} not ready in {timeout} s")
        time.sleep(0.1)
