"""Broadcast and cron locks: the local implementations and the Redis ones, across clients
(each client stands for a process)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.client import Redis as SyncRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from motia.adapters.broadcast.base import LocalBroadcast
from motia.adapters.locks.base import LocalCronLocks
from motia.adapters.redis.broadcast import RedisBroadcast
from motia.adapters.redis.connection import connect
from motia.adapters.redis.locks import RedisCronLocks
from tests.conftest import free_port, until
from tests.unit import redis_support

TICK = 1_750_000_000.0


@pytest.fixture
def prefix() -> Iterator[str]:
    redis_support.require_redis()
    chosen = redis_support.new_prefix()
    yield chosen
    redis_support.delete_prefix(chosen)


# --- broadcast -------------------------------------------------------------------------------


async def test_local_broadcast_hands_messages_straight_back() -> None:
    broadcast = LocalBroadcast()
    await broadcast.publish(b"before start")  # nobody listens yet: dropped
    got: list[bytes] = []
    await broadcast.start(got.append)
    await broadcast.publish(b"one")
    await broadcast.publish(b"two")
    assert got == [b"one", b"two"]
    await broadcast.close()


async def test_redis_broadcast_reaches_every_process_its_own_included(prefix: str) -> None:
    one = RedisBroadcast(redis_support.client(), prefix)
    two = RedisBroadcast(redis_support.client(), prefix)
    elsewhere = RedisBroadcast(redis_support.client(), redis_support.new_prefix())
    got_one: list[bytes] = []
    got_two: list[bytes] = []
    got_elsewhere: list[bytes] = []
    await one.start(got_one.append)
    await two.start(got_two.append)
    await elsewhere.start(got_elsewhere.append)
    assert one.subscribed and two.subscribed
    try:
        await one.publish(b"from one")
        await two.publish(b"from two \x00\xff")  # bytes, not text
        expected = [b"from one", b"from two \x00\xff"]
        await until(lambda: len(got_one) == 2 and len(got_two) == 2)
        assert got_one == expected  # one publisher's messages keep their order
        assert got_two == expected
        await asyncio.sleep(0.1)
        assert got_elsewhere == []  # another prefix is another deployment
    finally:
        for broadcast in (one, two, elsewhere):
            await broadcast.close()


async def test_redis_broadcast_survives_a_failing_receiver_and_close_stops_it(prefix: str) -> None:
    listener = RedisBroadcast(redis_support.client(), prefix)
    sender = RedisBroadcast(redis_support.client(), prefix)
    got: list[bytes] = []

    def receive(payload: bytes) -> None:
        if payload == b"bad":
            raise ValueError("receiver bug")
        got.append(payload)

    await listener.start(receive)
    await sender.publish(b"bad")
    await sender.publish(b"good")
    await until(lambda: got == [b"good"])
    await listener.close()
    assert not listener.subscribed
    await sender.publish(b"after close")
    await asyncio.sleep(0.1)
    assert got == [b"good"]
    await listener.close()  # twice is fine


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """A redis-server of our own on a spare port, which the test may stop and start."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(tmp_path)]
        process = subprocess.Popen(
            [binary, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        probe = SyncRedis(port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except RedisConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        probe.close()
        start.port = port  # type: ignore[attr-defined]
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def _connect_with_async_retry(url: str) -> Redis:
    """connect() as it should be: with the asyncio Retry (see the xfail below)."""
    return Redis.from_url(
        url,
        retry=AsyncRetry(ExponentialBackoff(cap=4.0, base=0.05), 8),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        socket_connect_timeout=5,
    )


@pytest.mark.parametrize("make_client", [connect, _connect_with_async_retry])
async def test_redis_broadcast_resubscribes_after_redis_restarts(
    own_redis: Callable[[], subprocess.Popen[bytes]], make_client: Callable[[str], Redis]
) -> None:
    server = own_redis()
    url = f"redis://127.0.0.1:{own_redis.port}/0"  # type: ignore[attr-defined]

    listener_client = make_client(url)
    listener = RedisBroadcast(listener_client, "restart")
    got: list[bytes] = []
    await listener.start(got.append)
    try:
        sender = connect(url)
        await RedisBroadcast(sender, "restart").publish(b"before")
        await sender.aclose()
        await until(lambda: got == [b"before"])
        server.kill()
        server.wait()
        await asyncio.sleep(0.3)  # the listener retries against a dead server meanwhile
        own_redis()
        # Pub/sub keeps nothing for a listener that is away: publish until it is back.
        sender = connect(url)
        deadline = time.monotonic() + 20
        while b"after" not in got:
            assert time.monotonic() < deadline, "the listener did not come back"
            await RedisBroadcast(sender, "restart").publish(b"after")
            await asyncio.sleep(0.1)
        await sender.aclose()
        assert got[0] == b"before" and set(got[1:]) == {b"after"}
        assert listener.subscribed
    finally:
        await listener.close()
        await listener_client.aclose()


async def test_connect_retries_a_command_across_a_redis_restart(
    own_redis: Callable[[], subprocess.Popen[bytes]],
) -> None:
    server = own_redis()
    url = f"redis://127.0.0.1:{own_redis.port}/0"  # type: ignore[attr-defined]

    client = connect(url)
    try:
        await client.set("k", "before")
        server.kill()
        server.wait()
        own_redis()
        await client.set("k", "after")  # the pooled connection is dead: retried
    finally:
        await client.aclose()


# --- cron locks ------------------------------------------------------------------------------


async def test_local_cron_locks_claim_each_tick_once() -> None:
    locks = LocalCronLocks()
    assert await locks.claim_tick("job", TICK, 60) is True
    assert await locks.claim_tick("job", TICK, 60) is False
    assert await locks.claim_tick("other", TICK, 60) is True
    assert await locks.claim_tick("job", TICK + 1, 60) is True
    await locks.close()


async def test_redis_cron_locks_one_claim_per_tick_across_processes(prefix: str) -> None:
    processes = [RedisCronLocks(redis_support.client(), prefix) for _ in range(2)]
    for tick in (TICK, TICK + 1, TICK + 2):
        claims = await asyncio.gather(
            *(locks.claim_tick("job", tick, 60) for locks in processes for _ in range(5))
        )
        assert claims.count(True) == 1, claims
    # jobs are independent, and so are deployments (prefixes)
    assert await processes[0].claim_tick("other job", TICK, 60) is True
    elsewhere = RedisCronLocks(redis_support.client(), redis_support.new_prefix())
    assert await elsewhere.claim_tick("job", TICK, 60) is True
    await redis_support.client().delete(elsewhere.tick_key("job", TICK))


async def test_redis_cron_lock_is_remembered_for_ttl_only(prefix: str) -> None:
    locks = RedisCronLocks(redis_support.client(), prefix)
    assert await locks.claim_tick("job", TICK, 0.2) is True
    assert await locks.claim_tick("job", TICK, 0.2) is False
    ttl_ms = await redis_support.client().pttl(locks.tick_key("job", TICK))
    assert 0 < ttl_ms <= 200
    await asyncio.sleep(0.3)
    assert await locks.claim_tick("job", TICK, 0.2) is True  # forgotten after the TTL
