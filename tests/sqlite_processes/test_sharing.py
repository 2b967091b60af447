"""The parts of the SQLite backend that several processes share, each checked with real
processes (or two backends on one file where a process boundary changes nothing): leases
taken in the write transaction, cron claims, and the peer sockets that carry queue
wake-ups and stream changes."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import multiprocessing
import os
import socket
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from motia.adapters.queue.base import OutgoingMessage
from motia.adapters.sqlite.backend import SqliteBackend
from motia.adapters.sqlite.checkpoint import Checkpointer
from motia.adapters.sqlite.database import SqliteDatabase
from motia.adapters.sqlite.fanout import INLINE_LIMIT, Fanout, peer_folder
from motia.clock import Clock
from motia.errors import StoreUnavailable
from motia.settings import Settings

pytestmark = pytest.mark.async_timeout(60)

MESSAGES = 600
GROUPS = 6


def settings_for(tmp_path: Path) -> Settings:
    return Settings(project_dir=tmp_path, data_dir=tmp_path / "data")


def message(i: int) -> OutgoingMessage:
    # Every other message in one of GROUPS FIFO groups, the rest unordered.
    group = f"G{i % GROUPS}" if i % 2 else None
    return OutgoingMessage(
        id=f"m{i:04d}", event_id=f"e{i}", subscriber="Sub", topic="t", data={"i": i},
        trace_id="tr", group_id=group,
    )  # fmt: skip


def lease_until_empty(tmp_path: Path) -> list[tuple[str, str | None, int, int]]:
    """In a process of its own: lease batches until nothing is left; for each message, its
    id, group, when (monotonic ns, one clock for the machine) its lease had committed and
    when its completion began."""

    async def run() -> list[tuple[str, str | None, int, int]]:
        backend = SqliteBackend(settings_for(tmp_path), Clock())
        queue = backend.queue()
        seen: list[tuple[str, str | None, int, int]] = []
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 1.0:
            batch = await queue.lease("Sub", 3, 60.0)
            if not batch:
                await asyncio.sleep(0.001)
                continue
            idle_since = time.monotonic()
            leased_at = time.monotonic_ns()
            await asyncio.sleep(0.002)  # a short handler
            for delivery in batch:
                completing_at = time.monotonic_ns()
                assert await queue.complete(delivery, [])
                seen.append((delivery.id, delivery.group_id, leased_at, completing_at))
        await queue.close()
        await backend.close()
        return seen

    return asyncio.run(run())


async def test_processes_leasing_at_once_take_each_message_once_and_keep_fifo(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(settings_for(tmp_path), Clock())
    queue = backend.queue()
    await queue.publish([message(i) for i in range(MESSAGES)])
    await queue.close()
    await backend.close()

    with multiprocessing.get_context("spawn").Pool(3) as pool:
        results = pool.map(lease_until_empty, [tmp_path] * 3, chunksize=1)

    runs = [run for result in results for run in result]
    print(f"leased per process: {[len(r) for r in results]}")
    ids = sorted(run[0] for run in runs)
    assert ids == sorted(message(i).id for i in range(MESSAGES)), "a message leased twice"
    assert sum(1 for result in results if result) >= 2, "one process took everything"
    by_group: dict[str, list[tuple[str, str | None, int, int]]] = defaultdict(list)
    for run in runs:
        if run[1] is not None:
            by_group[run[1]].append(run)
    for group, group_runs in by_group.items():
        group_runs.sort(key=lambda run: run[2])
        assert [run[0] for run in group_runs] == sorted(run[0] for run in group_runs), group
        for earlier, later in itertools.pairwise(group_runs):
            # The next of a group is leased only once the one before is being completed.
            assert later[2] > earlier[3], f"{group}: two messages of the group ran at once"


async def test_a_cron_tick_is_claimed_once_by_backends_on_one_file(tmp_path: Path) -> None:
    one = SqliteBackend(settings_for(tmp_path), Clock())
    two = SqliteBackend(settings_for(tmp_path), Clock())
    locks_one, locks_two = one.cron_locks(), two.cron_locks()
    tick = 1_750_000_000.0
    assert await locks_one.claim_tick("Job", tick, ttl=60) is True
    assert await locks_two.claim_tick("Job", tick, ttl=60) is False
    assert await locks_one.claim_tick("Job", tick, ttl=60) is False
    assert await locks_two.claim_tick("Job", tick + 1, ttl=60) is True
    assert await locks_one.claim_tick("Other", tick, ttl=60) is True
    # A claim past its time may be taken again (its holder died before running it, say).
    assert await locks_two.claim_tick("Late", tick, ttl=0) is True
    assert await locks_one.claim_tick("Late", tick, ttl=0) is True
    for backend in (one, two):
        await backend.close()


async def test_a_publish_wakes_the_watchers_of_other_processes_at_once(tmp_path: Path) -> None:
    publisher = SqliteBackend(settings_for(tmp_path), Clock())
    watcher = SqliteBackend(settings_for(tmp_path), Clock())
    woken: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    watched = watcher.queue()
    await watched.watch(lambda name: woken.put_nowait((name, time.monotonic())))
    queue = publisher.queue()
    await queue.watch(lambda name: None)  # the publisher's own socket: it is a peer too

    sent_at = time.monotonic()
    await queue.publish([message(0), message(1)])
    async with asyncio.timeout(2):
        name, at = await woken.get()
    assert name == "Sub"
    assert at - sent_at < 0.1, f"woken {at - sent_at:.3f} s after the publish"
    for backend in (publisher, watcher):
        await backend.close()


async def test_messages_reach_every_peer_large_ones_too_and_a_dead_peer_is_dropped(
    tmp_path: Path,
) -> None:
    folder = peer_folder(tmp_path / "motia.db")
    peers = [Fanout(folder) for _ in range(3)]
    got: list[list[bytes]] = [[] for _ in peers]
    both_arrived = asyncio.Event()

    def receiver(inbox: list[bytes]) -> Callable[[bytes], None]:
        def receive(payload: bytes) -> None:
            inbox.append(payload)
            if len(got[1]) == len(got[2]) == 2:
                both_arrived.set()

        return receive

    for fanout, inbox in zip(peers, got, strict=True):
        fanout.on(b"x", receiver(inbox))
        await fanout.start()
    # A socket file whose process was killed: nobody listens on it.
    stale = folder / "999999-deadbeef.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(stale))
    dead.close()
    assert stale.exists()

    big = os.urandom(INLINE_LIMIT * 3)
    await peers[0].send(b"x", b"small")
    await peers[0].send(b"x", big)
    await peers[0].send(b"y", b"nobody listens on y")

    await asyncio.wait_for(both_arrived.wait(), 2)
    assert got[1] == got[2] == [b"small", big]
    assert got[0] == [], "a process does not hear itself through the sockets"
    assert not stale.exists(), "the socket of a killed process is removed"
    assert peers[0].peer_count == 2
    await peers[2].close()
    assert peers[0].peer_count == 1
    for fanout in peers[:2]:
        await fanout.close()
    assert not [p for p in folder.iterdir() if p.suffix == ".sock"]


def test_the_peer_folder_fits_a_socket_address_wherever_the_database_is(tmp_path: Path) -> None:
    near = peer_folder(Path("/srv/app/.motia/motia.db"))
    assert near == Path("/srv/app/.motia/motia.db.peers")
    deep = Path("/srv/" + "/".join(["a-rather-long-folder-name"] * 6) + "/.motia/motia.db")
    far = peer_folder(deep)
    assert far == peer_folder(deep), "the same file always meets in the same folder"
    assert len(str(far / "4194304-0123abcd.sock")) < 108
    assert far != peer_folder(deep.with_name("other.db"))


async def test_a_process_that_cannot_open_its_peer_socket_runs_alone(tmp_path: Path) -> None:
    blocked = tmp_path / "motia.db.peers"
    blocked.write_text("a file where the folder should be")
    fanout = Fanout(blocked)
    await fanout.start()
    assert not fanout.started
    assert fanout.problem is not None and str(blocked) in fanout.problem
    await fanout.send(b"x", b"goes nowhere, raises nothing")
    await fanout.close()


async def test_a_peer_that_takes_nothing_cannot_hold_the_sender_up(tmp_path: Path) -> None:
    """A stopped process's queue fills; the sender waits for it once (`send_wait`), then
    drops what it cannot take at once, and sends again as soon as it has room."""
    folder = tmp_path / "peers"
    folder.mkdir()
    frozen = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # bound, never read
    frozen.bind(str(folder / "1-frozen.sock"))
    frozen.setblocking(False)
    sender = Fanout(folder, send_wait=0.2)
    await sender.start()

    started = time.monotonic()
    for i in range(3000):
        await sender.send(b"x", b"%d" % i)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"3000 sends to a frozen peer took {elapsed:.2f} s"

    received = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            frozen.recv(1024)
            received += 1
    assert 0 < received < 3000, received  # its queue held some; the rest were dropped
    await sender.send(b"x", b"after")
    assert frozen.recv(1024) == b"xafter", "the peer got room again: messages flow again"
    frozen.close()
    await sender.close()


async def test_a_peer_folder_others_may_write_in_is_not_used(tmp_path: Path) -> None:
    open_to_all = tmp_path / "peers"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    fanout = Fanout(open_to_all)
    await fanout.start()
    assert not fanout.started
    assert fanout.problem is not None and "others may write in it" in fanout.problem
    assert not list(open_to_all.iterdir())
    open_to_all.chmod(0o700)
    await fanout.start()
    assert fanout.started and fanout.problem is None
    await fanout.close()


class _NoWriters:
    """Writers of a process that has none: a checkpoint may always start."""

    def pause_for_checkpoint(self, may_start: threading.Event) -> bool:
        may_start.set()
        return True

    def resume_after_checkpoint(self) -> None:
        return None


def test_one_checkpointer_at_a_time_works_on_a_shared_file(tmp_path: Path) -> None:
    path = tmp_path / "motia.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (v BLOB)")
    for _ in range(40):
        conn.execute("INSERT INTO t VALUES (?)", (os.urandom(16_384),))
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 256 * 1024

    # Another process's checkpointer at work: it holds the lock.
    lock = os.open(f"{path}-checkpoint.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    checkpointer = Checkpointer(
        path, _NoWriters(), passive_above=64 * 1024, truncate_above=128 * 1024, interval=0.01
    )
    try:
        time.sleep(0.3)
        assert wal.stat().st_size > 256 * 1024, "it worked while another one held the lock"
        os.close(lock)  # the other one is done
        deadline = time.monotonic() + 3
        while wal.exists() and wal.stat().st_size > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not wal.exists() or wal.stat().st_size == 0, "the WAL was not truncated"
    finally:
        checkpointer.stop()
        conn.close()


async def test_a_write_waits_for_another_processs_lock_without_holding_the_loop(
    tmp_path: Path,
) -> None:
    database = SqliteDatabase(tmp_path / "motia.db")
    await database.write("CREATE TABLE t (v INTEGER)")
    other = sqlite3.connect(tmp_path / "motia.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    started = time.monotonic()
    await database.write("INSERT INTO t VALUES (1)")
    waited = time.monotonic() - started
    assert 0.25 < waited < 1.0, waited
    assert ticks >= 15, f"the loop ran {ticks} times while the write waited"
    assert database.query("SELECT v FROM t") == [(1,)]

    # A lock held past `busy_wait`: the write fails, naming the file and the cause.
    database.busy_wait = 0.2
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreUnavailable, match=r"motia\.db is locked by another process"):
        await database.write("INSERT INTO t VALUES (2)")
    other.execute("COMMIT")
    await database.write("INSERT INTO t VALUES (3)")
    assert database.query("SELECT v FROM t ORDER BY v") == [(1,), (3,)]
    ticking.cancel()
    other.close()
    database.close()
