"""In-memory stream store, for tests and `--memory`."""

from __future__ import annotations

from motia.adapters.streams.base import StreamStore
from motia.clock import Clock

_Key = tuple[str, str]  # (stream, group)


class MemoryStreamStore(StreamStore):
    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._groups: dict[_Key, dict[str, tuple[bytes, float | None]]] = {}

    def _live(
        self, stream: str, group_id: str, now: float
    ) -> dict[str, tuple[bytes, float | None]]:
        group = self._groups.get((stream, group_id), {})
        for item_id in [i for i, (_, exp) in group.items() if exp is not None and exp <= now]:
            del group[item_id]
        return group

    async def _get(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        entry = self._live(stream, group_id, now).get(item_id)
        return None if entry is None else entry[0]

    async def _put(
        self,
        stream: str,
        group_id: str,
        item_id: str,
        value: bytes,
        expires_at: float | None,
        now: float,
    ) -> bool:
        group = self._live(stream, group_id, now)
        created = item_id not in group
        self._groups.setdefault((stream, group_id), group)[item_id] = (value, expires_at)
        return created

    async def _delete(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        entry = self._live(stream, group_id, now).pop(item_id, None)
        return None if entry is None else entry[0]

    async def _group(self, stream: str, group_id: str, now: float) -> list[tuple[str, bytes]]:
        return [(i, value) for i, (value, _) in self._live(stream, group_id, now).items()]

    async def groups(self, stream: str) -> list[str]:
        now = self.clock.time()
        return sorted(g for (s, g) in self._groups if s == stream and self._live(s, g, now))

    async def expired(self) -> list[tuple[str, str, str]]:
        now = self.clock.time()
        gone = []
        for (stream, group_id), group in self._groups.items():
            for item_id, (_, expires_at) in list(group.items()):
                if expires_at is not None and expires_at <= now:
                    del group[item_id]
                    gone.append((stream, group_id, item_id))
        return gone
