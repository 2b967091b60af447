"""The queue adapter interface: one durable queue per subscriber (a step that subscribes).

The event bus fans an emitted event out into one message per subscriber, so each
subscriber gets, retries and acknowledges its own copy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class QueueMessage:
    """One event as delivered to one subscriber."""

    id: str
    topic: str
    data: Any
    trace_id: str
    flows: list[str] = field(default_factory=list)
    message_group_id: str | None = None
    attempt: int = 0


@dataclass(frozen=True)
class QueueDepth:
    waiting: int
    in_flight: int


class QueueAdapter(ABC):
    @abstractmethod
    async def publish(self, subscriber: str, messages: Sequence[QueueMessage]) -> None:
        """Accept messages for one subscriber; once this returns they are not lost."""

    @abstractmethod
    async def receive(self, subscriber: str) -> QueueMessage:
        """Wait for the next message of a subscriber and lease it."""

    @abstractmethod
    async def ack(self, subscriber: str, message: QueueMessage) -> None:
        """The handler succeeded: the message is done."""

    @abstractmethod
    async def nack(self, subscriber: str, message: QueueMessage, delay: float) -> None:
        """The handler failed: deliver the message again after `delay` seconds."""

    @abstractmethod
    def depth(self, subscriber: str) -> QueueDepth: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; pending receives are cancelled by the caller."""
