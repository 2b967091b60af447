"""State writes held back until the message that caused them completes.

An event handler on a backend whose queue and state share transactions (PostgreSQL) works
on `PendingStateWrites`: its `set`, `delete` and `clear` are recorded, not sent, and its
reads see the store with those writes applied, so the handler reads what it wrote. The
queue applies the recorded writes in the transaction that completes the message, with the
handler's emits: an attempt that fails leaves no state behind, a successful one leaves
exactly its writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from motia.adapters.state.base import StateAdapter


@dataclass(frozen=True)
class StateWrite:
    """One recorded write: `value` for a set, None for a delete; `key` None clears the
    whole group."""

    group_id: str
    key: str | None
    value: bytes | None = None


class _Group:
    """What the recorded writes did to one group: cleared first or not, then the keys
    written since (a value, or None for deleted)."""

    __slots__ = ("cleared", "keys")

    def __init__(self) -> None:
        self.cleared = False
        self.keys: dict[str, bytes | None] = {}


class PendingStateWrites(StateAdapter):
    def __init__(self, store: StateAdapter) -> None:
        self._store = store
        self.writes: list[StateWrite] = []
        self._groups: dict[str, _Group] = {}

    def _group(self, group_id: str) -> _Group:
        group = self._groups.get(group_id)
        if group is None:
            group = self._groups[group_id] = _Group()
        return group

    async def _get(self, group_id: str, key: str) -> bytes | None:
        group = self._groups.get(group_id)
        if group is not None:
            if key in group.keys:
                return group.keys[key]
            if group.cleared:
                return None
        return await self._store._get(group_id, key)

    async def _set(self, group_id: str, key: str, value: bytes) -> None:
        self.writes.append(StateWrite(group_id, key, value))
        self._group(group_id).keys[key] = value

    async def _delete(self, group_id: str, key: str) -> bytes | None:
        old = await self._get(group_id, key)
        self.writes.append(StateWrite(group_id, key))
        self._group(group_id).keys[key] = None
        return old

    async def _items(self, group_id: str) -> list[tuple[str, bytes]]:
        group = self._groups.get(group_id)
        if group is None:
            return await self._store._items(group_id)
        items = {} if group.cleared else dict(await self._store._items(group_id))
        for key, value in group.keys.items():
            if value is None:
                items.pop(key, None)
            else:
                items[key] = value
        return sorted(items.items())

    async def clear(self, group_id: str) -> None:
        self.writes.append(StateWrite(group_id, None))
        group = self._group(group_id)
        group.cleared = True
        group.keys.clear()

    async def groups(self) -> list[str]:
        names = set(await self._store.groups())
        for name in self._groups:
            if await self._items(name):
                names.add(name)
            else:
                names.discard(name)
        return sorted(names)
