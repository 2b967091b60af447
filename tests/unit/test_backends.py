"""Backends as the runtime opens them: every store of every backend, mixed backends, the
readiness check naming the store that fails, and the errors for a backend that cannot be
used."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from motia.adapters.factory import BACKENDS, BackendEntry, backend_class, open_stores
from motia.adapters.memory.observability import MemoryObservabilityStore
from motia.adapters.memory.queue import MemoryQueueAdapter
from motia.adapters.queue.base import OutgoingMessage
from motia.adapters.sqlite.observability import SqliteObservabilityStore
from motia.adapters.sqlite.state import SqliteStateAdapter
from motia.clock import Clock
from motia.errors import SettingsError, StoreUnavailable
from tests.conftest import free_port
from tests.hostile.support import fill, small_disk
from tests.unit import backend_support


@pytest.fixture(params=backend_support.NAMES)
def name(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend_support.require(request.param)
    yield request.param
    backend_support.cleanup(tmp_path)


async def test_a_backend_opens_every_store_that_works_and_closes(name: str, tmp_path: Path) -> None:
    settings = backend_support.settings_for(
        tmp_path, state_adapter=name, queue_adapter=name, streams_adapter=name
    )

    stores = open_stores(settings, Clock())
    assert [type(b) for b in stores.backends] == [backend_class(name)]
    await stores.ping(timeout=5)
    assert await stores.state.set("orders", "o1", {"n": 1}) == {"n": 1}
    assert await stores.state.get("orders", "o1") == {"n": 1}
    await stores.streams.set("live", "room", "a", {"text": "hi"}, None)
    assert await stores.streams.get("live", "room", "a") == {"id": "a", "text": "hi"}
    message = OutgoingMessage("m1", "e1", "ship", "order.placed", {"n": 1}, "t1")
    await stores.queue.publish([message])
    [delivery] = await stores.queue.lease("ship", 10, 30)
    assert (delivery.topic, delivery.data) == ("order.placed", {"n": 1})
    assert await stores.queue.complete(delivery, [])
    await stores.close()


@pytest.fixture(params=["postgres", "redis", "sqlite"])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend_support.require(request.param)
    yield request.param
    backend_support.cleanup(tmp_path)


async def test_a_durable_backend_keeps_state_for_the_next_process(
    durable: str, tmp_path: Path
) -> None:
    settings = backend_support.settings_for(tmp_path, state_adapter=durable)

    first = open_stores(settings, Clock())
    await first.state.set("g", "k", "kept")
    await first.close()
    second = open_stores(settings, Clock())
    assert await second.state.get("g", "k") == "kept"
    await second.close()


async def test_mixed_backends_each_open_once_and_redis_carries_streams_between_processes(
    tmp_path: Path,
) -> None:
    backend_support.require("redis")
    settings = backend_support.settings_for(
        tmp_path, state_adapter="sqlite", queue_adapter="memory", streams_adapter="redis"
    )

    stores = open_stores(settings, Clock())
    assert [b.__class__.__name__ for b in stores.backends] == [
        "SqliteBackend",
        "MemoryBackend",
        "RedisBackend",
    ]
    assert isinstance(stores.state, SqliteStateAdapter)
    assert isinstance(stores.queue, MemoryQueueAdapter)
    assert isinstance(stores.observability, SqliteObservabilityStore)  # beside state
    assert stores.broadcast.__class__.__name__ == "RedisBroadcast"
    assert stores.cron_locks.__class__.__name__ == "RedisCronLocks"
    await stores.ping(timeout=5)
    await stores.close()
    assert settings.database_path.exists()


async def test_without_a_shared_backend_updates_and_cron_ticks_stay_in_the_process(
    tmp_path: Path,
) -> None:
    settings = backend_support.settings_for(
        tmp_path, state_adapter="memory", queue_adapter="memory", streams_adapter="memory"
    )

    stores = open_stores(settings, Clock())
    assert isinstance(stores.observability, MemoryObservabilityStore)
    assert stores.broadcast.__class__.__name__ == "LocalBroadcast"
    assert stores.cron_locks.__class__.__name__ == "LocalCronLocks"
    await stores.close()


async def test_a_store_that_machines_share_coordinates_before_the_sqlite_file(
    tmp_path: Path,
) -> None:
    """Stream items in SQLite, state and events on Redis: cron ticks and stream updates go
    through Redis, which every machine of the deployment reaches."""
    backend_support.require("redis")
    settings = backend_support.settings_for(
        tmp_path, state_adapter="redis", queue_adapter="redis", streams_adapter="sqlite"
    )

    stores = open_stores(settings, Clock())
    assert stores.broadcast.__class__.__name__ == "RedisBroadcast"
    assert stores.cron_locks.__class__.__name__ == "RedisCronLocks"
    await stores.close()


async def test_the_sqlite_file_carries_updates_and_cron_ticks_between_its_processes(
    tmp_path: Path,
) -> None:
    settings = backend_support.settings_for(tmp_path, state_adapter="memory")

    stores = open_stores(settings, Clock())
    assert stores.broadcast.__class__.__name__ == "SqliteBroadcast"
    assert stores.cron_locks.__class__.__name__ == "SqliteCronLocks"
    await stores.close()


async def test_an_unreachable_redis_is_named_even_beside_a_working_sqlite(tmp_path: Path) -> None:
    port = free_port()  # nobody listens here
    settings = backend_support.settings_for(
        tmp_path, streams_adapter="redis", redis_url=f"redis://127.0.0.1:{port}/0"
    )

    stores = open_stores(settings, Clock())
    with pytest.raises(StoreUnavailable, match=rf"cannot reach Redis at 127\.0\.0\.1:{port}/0"):
        await stores.ping(timeout=0.5)
    await stores.close()


async def test_an_unreachable_postgres_is_named_without_its_password(tmp_path: Path) -> None:
    port = free_port()  # nobody listens here
    settings = backend_support.settings_for(
        tmp_path,
        state_adapter="postgres",
        database_url=f"postgresql://app:s3cret@127.0.0.1:{port}/orders",
    )

    stores = open_stores(settings, Clock())
    with pytest.raises(StoreUnavailable) as failure:
        await stores.ping(timeout=5)
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}/orders" in str(failure.value)
    assert "s3cret" not in str(failure.value)
    await stores.close()


async def test_postgres_beside_redis_keeps_state_and_queue_and_redis_carries_streams(
    tmp_path: Path,
) -> None:
    backend_support.require("redis")
    backend_support.require("postgres")
    settings = backend_support.settings_for(
        tmp_path, state_adapter="postgres", queue_adapter="postgres", streams_adapter="redis"
    )

    stores = open_stores(settings, Clock())
    assert [b.__class__.__name__ for b in stores.backends] == [
        "PostgresBackend",
        "RedisBackend",
    ]
    assert stores.broadcast.__class__.__name__ == "RedisBroadcast"
    assert stores.cron_locks.__class__.__name__ == "RedisCronLocks"
    await stores.ping(timeout=5)
    await stores.close()

    backend_support.cleanup(tmp_path)


async def test_a_full_disk_under_sqlite_is_named_and_not_called_redis(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        settings = backend_support.settings_for(tmp_path, data_dir=disk)

        stores = open_stores(settings, Clock())
        await stores.ping(timeout=5)
        fill(disk)
        with pytest.raises(StoreUnavailable) as failure:
            await stores.state.set("g", "k", "x" * 100_000)  # more than fits
        with pytest.raises(StoreUnavailable) as failure:
            await stores.ping(timeout=5)
        assert str(settings.database_path) in str(failure.value)
        assert "disk is full" in str(failure.value)
        assert "Redis" not in str(failure.value)
        await stores.close()


def test_an_unknown_backend_name_lists_the_known_ones() -> None:
    with pytest.raises(
        SettingsError, match="unknown store 'mongo': use one of memory, postgres, redis, sqlite"
    ):
        backend_class("mongo")


@pytest.mark.parametrize(
    ("name", "client", "title"),
    [("redis", "redis", "Redis"), ("postgres", "psycopg", "PostgreSQL")],
)
def test_a_missing_extra_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, name: str, client: str, title: str
) -> None:
    # Finalisers of clients that earlier tests left for the collector may import parts
    # of the client package: let them run before it is hidden.
    gc.collect()
    # As if the client package were not installed: importing it fails.
    for module in [m for m in sys.modules if m == client or m.startswith(f"{client}.")]:
        monkeypatch.delitem(sys.modules, module)
    for module in [m for m in sys.modules if m.startswith(f"motia.adapters.{name}")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, client, None)
    with pytest.raises(SettingsError) as failure:
        backend_class(name)
    assert str(failure.value) == (
        f"{title} is configured but unavailable: install the {title} extra: "
        f"pip install 'motia-python[{name}]'"
    )


def test_an_import_error_inside_a_backend_is_not_taken_for_a_missing_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = BackendEntry("motia.adapters.nowhere.backend:NowhereBackend", "Nowhere", "redis")
    monkeypatch.setitem(BACKENDS, "nowhere", broken)
    with pytest.raises(ModuleNotFoundError, match=r"motia\.adapters\.nowhere"):
        backend_class("nowhere")
