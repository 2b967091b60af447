"""In-memory state: for tests and `motia dev --memory`. Nothing survives the process."""

from __future__ import annotations

from motia.adapters.state.base import StateAdapter


class MemoryStateAdapter(StateAdapter):
    def __init__(self) -> None:
        self._groups: dict[str, dict[str, bytes]] = {}

    async def _get(self, group_id: str, key: str) -> bytes | None:
        group = self._groups.get(group_id)
        return None if group is None else group.get(key)

    async def _set(self, group_id: str, key: str, value: bytes) -> None:
        self._groups.setdefault(group_id, {})[key] = value

    async def _delete(self, group_id: str, key: str) -> bytes | None:
        group = self._groups.get(group_id)
        if group is None:
            return None
        old = group.pop(key, None)
        if not group:
            del self._groups[group_id]
        return old

    async def _items(self, group_id: str) -> list[tuple[str, bytes]]:
        return sorted(self._groups.get(group_id, {}).items())

    async def clear(self, group_id: str) -> None:
        self._groups.pop(group_id, None)

    async def groups(self) -> list[str]:
        return sorted(self._groups)
