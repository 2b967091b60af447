"""The settings put each store where they say: `MOTIA_DATABASE_URL` moves every store to
PostgreSQL, a `postgres://` `DATABASE_URL` does too when nothing else is configured (and
another kind of URL is left alone), and with Redis configured as well state and queue stay
on PostgreSQL while streams go to Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.postgres.conftest import DATABASE_URL
from tests.postgres.support import PLACEMENT_FILES, redis_dump, rows_containing
from tests.redis.conftest import delete_prefix, require_redis
from tests.redis.support import PROJECT, handled_ids
from tests.unit.redis_support import REDIS_URL

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]


def _place(server: ServerProcess, state: str, stream: str) -> None:
    response = server.client.post("/place", json={"state": state, "stream": stream})
    assert response.status_code == 200, response.text


def test_database_url_alone_puts_state_on_postgres(
    tmp_path: Path, pg_schema: str, servers: Servers
) -> None:
    project = write_project(tmp_path / "place", {**PROJECT, **PLACEMENT_FILES})
    url = "postgres://" + DATABASE_URL.split("://", 1)[1]  # the scheme platforms hand out
    server = servers(project, env={"DATABASE_URL": url, "MOTIA_DATABASE_SCHEMA": pg_schema})
    state, stream = uuid.uuid4().hex, uuid.uuid4().hex
    _place(server, state, stream)
    assert rows_containing(pg_schema, state[::-1]) >= 1
    assert rows_containing(pg_schema, stream[::-1]) >= 1
    assert not (project / ".motia").exists() or not any((project / ".motia").glob("*.db"))


def test_a_database_url_of_another_kind_is_not_taken_for_postgres(
    tmp_path: Path, servers: Servers
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    server = servers(project, env={"DATABASE_URL": "mysql://root@127.0.0.1:3306/test"})
    response = server.client.post("/orders", json={"id": "on-sqlite"})
    assert response.status_code == 201, response.text
    wait_for(lambda: "on-sqlite" in handled_ids(project), 10, what="the event handled")


def test_with_redis_and_postgres_both_set_state_and_queue_use_postgres_and_streams_redis(
    tmp_path: Path, pg_env: dict[str, str], pg_schema: str, servers: Servers
) -> None:
    require_redis()
    prefix = f"test-pg-{uuid.uuid4().hex[:12]}"
    project = write_project(tmp_path / "place", {**PROJECT, **PLACEMENT_FILES})
    try:
        env = {**pg_env, "MOTIA_REDIS_URL": REDIS_URL, "MOTIA_REDIS_PREFIX": prefix}
        server = servers(project, env=env)
        state, stream = uuid.uuid4().hex, uuid.uuid4().hex
        _place(server, state, stream)
        in_redis = str(redis_dump(REDIS_URL, prefix))

        assert rows_containing(pg_schema, state[::-1]) >= 1, "state is not in PostgreSQL"
        assert state[::-1] not in in_redis, "state went to Redis"
        assert stream[::-1] in in_redis, "the stream item is not in Redis"
        assert not any(":q:" in key for key in redis_dump(REDIS_URL, prefix)), in_redis
        server.stop()
    finally:
        delete_prefix(prefix)
