"""Redis broadcast: PUBLISH on `<prefix>:broadcast`, and a background task per process that
listens on a pub/sub connection and hands every message (its own included) to the receiver.

Pub/sub keeps nothing: a message published while a listener is disconnected is not
delivered to it. When the connection drops (Redis restarted), the listener subscribes
again with exponential backoff until it succeeds, and `close()` stops it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from redis.asyncio import Redis

from motia.adapters.broadcast.base import Broadcast, Receiver
from motia.adapters.redis.calls import settle
from motia.adapters.redis.connection import key

FIRST_SUBSCRIBE_WAIT = 5.0  # how long `start` waits for the first subscription
BACKOFF_START = 0.1
BACKOFF_CAP = 5.0
POLL = 1.0  # wake the listener this often, so the connection's health check runs


class RedisBroadcast(Broadcast):
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self.channel = key(prefix, "broadcast")
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def subscribed(self) -> bool:
        """Whether the listener is subscribed right now."""
        return self._subscribed.is_set()

    async def start(self, receive: Receiver) -> None:
        if self._task is not None:
            raise RuntimeError("the broadcast is already started")
        self._task = asyncio.get_running_loop().create_task(self._listen(receive))
        # Messages published after `start` returns must reach us: wait until Redis has
        # confirmed the subscription (bounded; if Redis is down the task keeps trying).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FIRST_SUBSCRIBE_WAIT):
                await self._subscribed.wait()

    async def publish(self, payload: bytes) -> None:
        await settle(self._client.publish(self.channel, payload))

    async def _listen(self, receive: Receiver) -> None:
        delay = BACKOFF_START
        while True:
            pubsub = self._client.pubsub()
            try:
                await settle(pubsub.subscribe(self.channel))
                while True:
                    message: dict[str, Any] | None = await settle(pubsub.get_message(timeout=POLL))
                    if message is None:
                        continue
                    kind = message["type"]
                    if kind in ("subscribe", b"subscribe"):
                        self._subscribed.set()
                        delay = BACKOFF_START
                    elif kind in ("message", b"message"):
                        with contextlib.suppress(Exception):  # a receiver bug must not stop us
                            receive(bytes(message["data"]))
            except Exception:  # Redis went away (or the client broke): subscribe again
                self._subscribed.clear()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis 6
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_CAP)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._subscribed.clear()
