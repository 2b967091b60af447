"""What PostgreSQL adds besides the contract suites: its migrations and `motia db
migrate`, its broadcast (LISTEN/NOTIFY, payloads by reference) and cron claims across
connections (each database object stands for a process), and waking idle workers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from motia.adapters.postgres.broadcast import INLINE_LIMIT, PostgresBroadcast
from motia.adapters.postgres.database import PostgresDatabase, channel_name
from motia.adapters.postgres.locks import PostgresCronLocks
from motia.adapters.postgres.migrations import LATEST, migrate_database
from motia.cli.main import cli
from motia.clock import Clock
from motia.errors import StoreUnavailable
from tests.conftest import until
from tests.unit import postgres_support

TICK = 1_750_000_000.0


@pytest.fixture
def schema(tmp_path: Path) -> Iterator[str]:
    postgres_support.require_postgres()
    yield postgres_support.schema_for(tmp_path)
    postgres_support.cleanup(tmp_path)


def database(schema: str) -> PostgresDatabase:
    return postgres_support.track(PostgresDatabase(postgres_support.DATABASE_URL, schema))


def versions(schema: str) -> list[int]:
    with psycopg.connect(postgres_support.DATABASE_URL) as connection:
        query = sql.SQL("SELECT version FROM {}.schema_migrations ORDER BY version")
        return [row[0] for row in connection.execute(query.format(sql.Identifier(schema)))]


# --- migrations ------------------------------------------------------------------------------


async def test_processes_starting_at_once_migrate_the_schema_once(schema: str) -> None:
    processes = [database(schema) for _ in range(4)]
    applied = await asyncio.gather(*(migrate_database(db) for db in processes))
    assert sorted(applied) == [[], [], [], list(range(1, LATEST + 1))]
    assert versions(schema) == list(range(1, LATEST + 1))
    await processes[0].probe()  # the pool migrates nothing more and works


async def test_a_schema_newer_than_this_version_is_refused(schema: str) -> None:
    await migrate_database(database(schema))
    with psycopg.connect(postgres_support.DATABASE_URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("INSERT INTO {}.schema_migrations (version) VALUES (%s)").format(
                sql.Identifier(schema)
            ),
            (LATEST + 1,),
        )
    with pytest.raises(StoreUnavailable, match="newer than this Motia knows"):
        await database(schema).probe()


def test_motia_db_migrate_creates_the_schema_then_has_nothing_to_do(
    schema: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.yml").write_text(
        f"database:\n  url: {postgres_support.DATABASE_URL}\n  schema: {schema}\n"
    )
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "migrate", "-d", str(project)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert f"schema '{schema}'" in first.output
    assert f"applied migration(s) 1; now at version {LATEST}" in first.output
    assert versions(schema) == list(range(1, LATEST + 1))
    again = runner.invoke(cli, ["db", "migrate", "-d", str(project)], catch_exceptions=False)
    assert f"already at version {LATEST}" in again.output


# --- broadcast -------------------------------------------------------------------------------


async def test_broadcast_reaches_every_process_its_own_included(schema: str) -> None:
    channel = channel_name(schema, "broadcast")
    one = PostgresBroadcast(database(schema), channel)
    two = PostgresBroadcast(database(schema), channel)
    elsewhere = PostgresBroadcast(database(schema), channel_name(schema + "x", "broadcast"))
    got_one: list[bytes] = []
    got_two: list[bytes] = []
    got_elsewhere: list[bytes] = []
    await one.start(got_one.append)
    await two.start(got_two.append)
    await elsewhere.start(got_elsewhere.append)
    assert one.listening and two.listening
    big = b"x" * (INLINE_LIMIT * 3)  # over the NOTIFY limit: goes by reference
    binary = b"\x00\xff not text"
    await one.publish(b"from one")
    await two.publish(big)
    await two.publish(binary)
    expected = [b"from one", big, binary]
    await until(lambda: got_one == expected and got_two == expected)
    await asyncio.sleep(0.05)
    assert got_elsewhere == []
    for broadcast in (one, two, elsewhere):
        await broadcast.close()
    assert not one.listening


async def test_broadcast_survives_a_failing_receiver(schema: str) -> None:
    broadcast = PostgresBroadcast(database(schema), channel_name(schema, "broadcast"))
    got: list[bytes] = []

    def receive(payload: bytes) -> None:
        if payload == b"bad":
            raise RuntimeError("receiver bug")
        got.append(payload)

    await broadcast.start(receive)
    await broadcast.publish(b"bad")
    await broadcast.publish(b"good")
    await until(lambda: got == [b"good"])
    await broadcast.close()


# --- cron locks ------------------------------------------------------------------------------


async def test_cron_locks_one_claim_per_tick_across_processes(schema: str) -> None:
    processes = [PostgresCronLocks(database(schema), Clock()) for _ in range(3)]
    for tick in (TICK, TICK + 1, TICK + 2):
        claims = await asyncio.gather(
            *(locks.claim_tick("job", tick, 60) for locks in processes for _ in range(4))
        )
        assert claims.count(True) == 1, claims
    assert await processes[0].claim_tick("other job", TICK, 60) is True
    elsewhere = PostgresCronLocks(database(schema + "_b"), Clock())
    try:
        assert await elsewhere.claim_tick("job", TICK, 60) is True  # another deployment
    finally:
        postgres_support.drop_schema(schema + "_b")


async def test_cron_claim_is_remembered_for_ttl_only(schema: str) -> None:
    locks = PostgresCronLocks(database(schema), Clock())
    assert await locks.claim_tick("job", TICK, 0.2) is True
    assert await locks.claim_tick("job", TICK, 0.2) is False
    await asyncio.sleep(0.3)
    assert await locks.claim_tick("job", TICK, 0.2) is True  # forgotten after the TTL
