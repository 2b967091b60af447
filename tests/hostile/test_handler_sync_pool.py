"""The sync handler pool on real threads: a step's share is given back exactly once,
whether its runs finish, wait for admission or are cancelled before or while they run."""

from __future__ import annotations

import asyncio
import threading

from motia.errors import HandlerExited
from motia.runtime.sync_pool import SyncPool


async def test_cancelled_runs_give_their_share_back_exactly_once() -> None:
    pool = SyncPool(threads=2, per_step=1, logger=None)
    gate = threading.Event()
    blocked = asyncio.ensure_future(pool.run("A", gate.wait))
    await asyncio.sleep(0.05)
    assert pool.busy_steps() == {"A": 1}
    waiting = asyncio.ensure_future(pool.run("A", lambda: "second"))
    await asyncio.sleep(0.05)
    waiting.cancel()  # cancelled while waiting for A's only thread
    running = asyncio.ensure_future(pool.run("A", lambda: "third"))
    await asyncio.sleep(0.05)
    blocked.cancel()  # cancelled while its thread runs: the share stays taken
    await asyncio.sleep(0.05)
    assert not running.done()
    # Another step is not held up by A.
    assert await asyncio.wait_for(pool.run("B", lambda: "b"), 5) == "b"
    gate.set()  # the thread returns: its share goes to the third run
    assert await asyncio.wait_for(running, 5) == "third"
    assert await asyncio.wait_for(pool.run("A", lambda: "again"), 5) == "again"
    assert pool.busy_steps() == {}
    pool.close()


async def test_a_thread_that_raises_system_exit_fails_only_its_run() -> None:
    pool = SyncPool(threads=1, per_step=None, logger=None)

    def exits() -> None:
        raise SystemExit(2)

    try:
        await pool.run("A", exits)
    except HandlerExited as exc:
        assert isinstance(exc.__cause__, SystemExit)
    else:
        raise AssertionError("SystemExit was not reported")
    assert await pool.run("A", lambda: 1) == 1  # the thread lives on
    pool.close()
