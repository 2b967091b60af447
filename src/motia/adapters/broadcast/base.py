"""Broadcast: every process of a deployment hears every message published by any of them.

Stream changes travel this way, so a WebSocket client connected to one process sees a
change a handler made on another. Alone, a process needs none: `LocalBroadcast` hands
messages straight back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

Receiver = Callable[[bytes], None]


class Broadcast(ABC):
    @abstractmethod
    async def start(self, receive: Receiver) -> None:
        """Begin delivering every published message (ours included) to `receive`."""

    @abstractmethod
    async def publish(self, payload: bytes) -> None: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop listening and release connections."""


class LocalBroadcast(Broadcast):
    """One process: published messages go straight to the receiver."""

    def __init__(self) -> None:
        self._receive: Receiver | None = None

    async def start(self, receive: Receiver) -> None:
        self._receive = receive

    async def publish(self, payload: bytes) -> None:
        if self._receive is not None:
            self._receive(payload)
