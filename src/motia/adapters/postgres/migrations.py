"""The tables of a deployment's schema, created and changed by numbered migrations.

`schema_migrations` records each version applied. All pending migrations run in one
transaction under an advisory lock on the schema's name, so processes that start at once
migrate it exactly once and none of them sees a half-built schema. A migration, once
released, never changes: a new version is added instead.

Values (state, stream items, queued event data) are `json`, not `jsonb`: `json` keeps
the document's text as written, so users get their objects back with the keys in the
order they wrote them (jsonb sorts keys and drops duplicates, which would reorder API
responses) and the `\\u0000` that JSON allows but jsonb refuses. The server still checks
that each value is valid JSON, and SQL can still read it (`value->>'status'`).
Keys are `COLLATE "C"`, so listings come back in the same order on every server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from motia.errors import StoreUnavailable

if TYPE_CHECKING:
    from motia.adapters.postgres.database import PostgresDatabase

_V1 = """
CREATE TABLE state (
    group_id   text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      json NOT NULL,
    updated_at double precision NOT NULL,
    PRIMARY KEY (group_id, key)
);
CREATE TABLE queue_messages (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    event_id    text NOT NULL,
    subscriber  text NOT NULL,
    topic       text NOT NULL,
    data        json NOT NULL,
    trace_id    text NOT NULL,
    flows       json NOT NULL,
    group_id    text,
    attempts    integer NOT NULL DEFAULT 0,
    visible_at  double precision NOT NULL,
    lease_token text,
    lease_until double precision NOT NULL DEFAULT 0,
    enqueued_at double precision NOT NULL,
    last_error  text
);
CREATE INDEX queue_messages_by_subscriber ON queue_messages (subscriber, seq);
CREATE INDEX queue_messages_by_group ON queue_messages (subscriber, group_id, seq)
    WHERE group_id IS NOT NULL;
CREATE TABLE dead_letters (
    id          text PRIMARY KEY,
    event_id    text NOT NULL,
    subscriber  text NOT NULL,
    topic       text NOT NULL,
    data        json NOT NULL,
    trace_id    text NOT NULL,
    flows       json NOT NULL,
    group_id    text,
    attempts    integer NOT NULL,
    error       text NOT NULL,
    stack       text,
    reason      text NOT NULL,
    enqueued_at double precision NOT NULL,
    failed_at   double precision NOT NULL
);
CREATE INDEX dead_letters_by_subscriber ON dead_letters (subscriber, failed_at);
CREATE TABLE stream_items (
    stream     text COLLATE "C" NOT NULL,
    group_id   text COLLATE "C" NOT NULL,
    item_id    text COLLATE "C" NOT NULL,
    value      json NOT NULL,
    expires_at double precision,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    PRIMARY KEY (stream, group_id, item_id)
);
CREATE INDEX stream_items_expiry ON stream_items (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE logs (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time     bigint NOT NULL,
    level    text NOT NULL,
    step     text,
    trace_id text,
    flows    text NOT NULL,
    msg      text NOT NULL,
    record   json NOT NULL
);
CREATE INDEX logs_by_time ON logs (time);
CREATE INDEX logs_by_trace ON logs (trace_id, time);
CREATE TABLE spans (
    id         text PRIMARY KEY,
    trace_id   text NOT NULL,
    step       text NOT NULL,
    status     text NOT NULL,
    started_at double precision NOT NULL,
    ended_at   double precision,
    span       json NOT NULL
);
CREATE INDEX spans_by_trace ON spans (trace_id, started_at);
CREATE INDEX spans_by_start ON spans (started_at);
CREATE TABLE cron_claims (
    job        text NOT NULL,
    tick       double precision NOT NULL,
    owner      text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (job, tick)
);
CREATE INDEX cron_claims_expiry ON cron_claims (expires_at);
CREATE TABLE broadcast_payloads (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

# Scheduled emits (see `scheduled.py`): what they were and which queue rows are theirs.
_V2 = """
CREATE TABLE scheduled_emits (
    event_id text PRIMARY KEY,
    topic    text NOT NULL,
    key      text,
    fire_at  double precision NOT NULL,
    trace_id text NOT NULL
);
CREATE INDEX scheduled_emits_by_key ON scheduled_emits (key, topic) WHERE key IS NOT NULL;
CREATE INDEX scheduled_emits_by_time ON scheduled_emits (fire_at);
CREATE TABLE scheduled_copies (
    message_id text PRIMARY KEY,
    event_id   text NOT NULL
);
CREATE INDEX scheduled_copies_by_event ON scheduled_copies (event_id);
"""

# Flow-control slots of event steps (see `flow_slots.py`): one row per live slot; message
# priorities (leased highest first).
_V3 = """
CREATE TABLE flow_slots (
    scope      text COLLATE "C" NOT NULL,
    holder     text COLLATE "C" NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (scope, holder)
);
CREATE INDEX flow_slots_expiry ON flow_slots (expires_at);
ALTER TABLE queue_messages ADD COLUMN priority integer NOT NULL DEFAULT 0;
CREATE INDEX queue_messages_by_priority ON queue_messages (subscriber, priority DESC, seq);
"""

# Version → statements, in order. Append; never edit a released one.
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2), (3, _V3))
LATEST = MIGRATIONS[-1][0]


async def migrate(connection: psycopg.AsyncConnection[Any], schema: str) -> list[int]:
    """Bring `schema` to the latest version; returns the versions applied now."""
    schema_id = sql.Identifier(schema)
    async with connection.transaction():
        # One migrator per schema at a time; the lock ends with the transaction.
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"motia.migrate:{schema}",)
        )
        await connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema_id))
        await connection.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version integer PRIMARY KEY, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(schema_id)
        )
        cursor = await connection.execute(
            sql.SQL("SELECT version FROM {}.schema_migrations").format(schema_id)
        )
        done = {row[0] for row in await cursor.fetchall()}
        if done and max(done) > LATEST:
            raise StoreUnavailable(
                f"the PostgreSQL schema {schema!r} is at version {max(done)}, newer than this "
                f"Motia knows ({LATEST}): upgrade Motia"
            )
        applied: list[int] = []
        await connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(schema_id))
        for version, statements in MIGRATIONS:
            if version in done:
                continue
            await connection.execute(statements.encode())
            await connection.execute(
                "INSERT INTO schema_migrations (version) VALUES (%s)", (version,)
            )
            applied.append(version)
    return applied


async def migrate_database(database: PostgresDatabase) -> list[int]:
    """Migrate on a connection of its own (`motia db migrate`); returns what was applied."""
    connection = await database.connect()
    try:
        try:
            return await migrate(connection, database.schema)
        except psycopg.OperationalError as exc:
            raise database.unavailable(exc) from exc
    finally:
        await connection.close()
