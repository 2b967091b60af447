"""In-memory stream store, for tests and `--memory`."""

from __future__ import annotations

from motia.adapters.streams.base import PutResult, StreamStore
from motia.clock import Clock

_Key = tuple[str, str]  # (stream, group)
_Entry = tuple[bytes, float | None]  # (value, expires_at)


class MemoryStreamStore(StreamStore):
    """Expired items are hidden from reads but only removed by `expired()`, so every expiry
    is announced to subscribers exactly once."""

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self._groups: dict[_Key, dict[str, _Entry]] = {}

    @staticmethod
    def _alive(entry: _Entry, now: float) -> bool:
        return entry[1] is None or entry[1] > now

    async def _get(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        entry = self._groups.get((stream, group_id), {}).get(item_id)
        return entry[0] if entry is not None and self._alive(entry, now) else None

    async def _put(
        self,
        stream: str,
        group_id: str,
        item_id: str,
        value: bytes,
        expires_at: float | None,
        now: float,
    ) -> PutResult:
        group = self._groups.setdefault((stream, group_id), {})
        old = group.get(item_id)
        group[item_id] = (value, expires_at)
        if old is None:
            return "created"
        return "updated" if self._alive(old, now) else "revived"

    async def _delete(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None:
        entry = self._groups.get((stream, group_id), {}).pop(item_id, None)
        return entry[0] if entry is not None and self._alive(entry, now) else None

    async def _group(self, stream: str, group_id: str, now: float) -> list[tuple[str, bytes]]:
        group = self._groups.get((stream, group_id), {})
        return [(i, entry[0]) for i, entry in group.items() if self._alive(entry, now)]

    async def groups(self, stream: str) -> list[str]:
        now = self.clock.time()
        return sorted(
            g
            for (s, g), items in self._groups.items()
            if s == stream and any(self._alive(e, now) for e in items.values())
        )

    async def expired(self) -> list[tuple[str, str, str]]:
        now = self.clock.time()
        gone = []
        for (stream, group_id), group in self._groups.items():
            for item_id, entry in list(group.items()):
                if not self._alive(entry, now):
                    del group[item_id]
                    gone.append((stream, group_id, item_id))
        return gone
