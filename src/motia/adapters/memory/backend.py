"""Everything in this process's memory: for tests and throwaway runs, gone at exit."""

from __future__ import annotations

from motia.adapters.backend import Backend
from motia.adapters.memory.observability import MemoryObservabilityStore
from motia.adapters.memory.queue import MemoryQueueAdapter
from motia.adapters.memory.state import MemoryStateAdapter
from motia.adapters.memory.streams import MemoryStreamStore
from motia.adapters.observability.base import ObservabilityStore
from motia.adapters.queue.base import QueueAdapter
from motia.adapters.state.base import StateAdapter
from motia.adapters.streams.base import StreamStore


class MemoryBackend(Backend):
    def state(self) -> StateAdapter:
        return MemoryStateAdapter()

    def queue(self) -> QueueAdapter:
        return MemoryQueueAdapter(self.clock)

    def streams(self) -> StreamStore:
        return MemoryStreamStore(self.clock)

    def observability(self) -> ObservabilityStore:
        return MemoryObservabilityStore()

    async def ping(self, timeout: float) -> None:
        """Memory is always there."""

    async def close(self) -> None:
        """Each adapter frees its own data when it is closed."""
