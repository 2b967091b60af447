"""What PostgreSQL adds besides the contract suites: its migrations and `motia db
migrate`, its broadcast (LISTEN/NOTIFY, payloads by reference) and cron claims across
connections (each database object stands for a process), and waking idle workers."""

from __future__ import annotations

import asyncio
import io
import sys
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
from motia.adapters.postgres.queue import PostgresQueueAdapter
from motia.adapters.queue.base import OutgoingMessage
from motia.cli.main import cli
from motia.clock import Clock
from motia.errors import StoreUnavailable
from motia.logs import LogSink
from motia.runtime.runtime import Runtime
from motia.settings import load_settings
from motia.testing.clock import ManualClock
from tests.conftest import until, write_project
from tests.unit import backend_support, postgres_support
from tests.unit.postgres_support import OwnPostgres
from tests.unit.test_delivery import STEPS

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
    every = ", ".join(str(v) for v in range(1, LATEST + 1))
    assert f"applied migration(s) {every}; now at version {LATEST}" in first.output
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
    # The TTL runs on the injected clock: a slow machine between the calls changes nothing.
    clock = ManualClock()
    locks = PostgresCronLocks(database(schema), clock)
    assert await locks.claim_tick("job", TICK, 0.2) is True
    clock.advance(0.1)
    assert await locks.claim_tick("job", TICK, 0.2) is False
    clock.advance(0.2)
    assert await locks.claim_tick("job", TICK, 0.2) is True  # forgotten after the TTL


# --- waking idle workers ---------------------------------------------------------------------


async def test_a_publish_elsewhere_wakes_the_watching_queue(schema: str, tmp_path: Path) -> None:
    here = backend_support.open_backend("postgres", tmp_path).queue()
    there = backend_support.open_backend("postgres", tmp_path).queue()
    woken: list[str] = []
    await here.watch(woken.append)
    await there.publish([_message("Sub", "m1"), _message("Other", "m2")])
    await until(lambda: sorted(woken) == ["Other", "Sub"])
    await here.close()
    await there.publish([_message("Sub", "m3")])
    await asyncio.sleep(0.1)
    assert sorted(woken) == ["Other", "Sub"]  # closed: no longer listening


async def test_an_idle_worker_runs_a_message_from_another_process_before_its_poll(
    schema: str, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", STEPS)
    settings = load_settings(
        project,
        "start",
        environ={},
        database_url=postgres_support.DATABASE_URL,
        database_schema=schema,
        state_adapter="postgres",
        queue_adapter="postgres",
        queue_poll_interval=30,  # only a wake-up can make it in time
    )
    runtime = Runtime.load(settings, sink=LogSink("error", "json", stream=io.StringIO()))
    await runtime.start()
    try:
        record = sys.modules["steps.lib.record"]
        await asyncio.sleep(0.3)  # every worker has looked once and sleeps
        other = backend_support.open_backend("postgres", tmp_path).queue()
        await other.publish([_message("FlakyDone", "from-elsewhere")])
        await until(lambda: len(record.SEEN) == 1, timeout=5)
        assert record.SEEN[0][0] == "flaky.done"
    finally:
        await runtime.stop()


def _message(subscriber: str, id: str) -> OutgoingMessage:
    return OutgoingMessage(
        id=id,
        event_id=f"e-{id}",
        subscriber=subscriber,
        topic="flaky.done",
        data={"n": 1},
        trace_id="t-1",
    )


# --- a database restart ----------------------------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL cluster of the test's own on a free port, which it may stop and start."""
    postgres_support.require_postgres()
    server = OwnPostgres.create()
    try:
        yield server
    finally:
        server.destroy()


async def test_a_database_restart_loses_nothing_accepted_and_is_reported_meanwhile(
    own_postgres: OwnPostgres,
) -> None:
    db = postgres_support.track(PostgresDatabase(own_postgres.url, "motia"))
    here = PostgresQueueAdapter(db, Clock(), channel_name("motia", "queue"))
    await here.publish([_message("Sub", "before")])
    own_postgres.stop()
    where = f"cannot reach PostgreSQL at 127.0.0.1:{own_postgres.port}/postgres"
    with pytest.raises(StoreUnavailable, match=where):
        await db.probe()
    own_postgres.start()
    deadline = asyncio.get_running_loop().time() + 20
    while True:  # the pool replaces its broken connections
        try:
            await db.probe()
            break
        except StoreUnavailable:
            assert asyncio.get_running_loop().time() < deadline, "no reconnect"
            await asyncio.sleep(0.2)
    await here.publish([_message("Sub", "after")])
    leased = await here.lease("Sub", 10, 30)
    assert [d.id for d in leased] == ["before", "after"]
