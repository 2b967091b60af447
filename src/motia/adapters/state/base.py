"""The state adapter interface: values grouped by a group id (usually the trace id).

Values are JSON documents. The base class owns serialisation, so every backend stores and
returns the same thing and a value mutated after `set` never changes what was stored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from motia import jsoncodec


class StateAdapter(ABC):
    """Backends implement the raw primitives on encoded values; users call the public API."""

    async def get(self, group_id: str, key: str) -> Any:
        raw = await self._get(group_id, key)
        return None if raw is None else jsoncodec.loads(raw)

    async def set(self, group_id: str, key: str, value: Any) -> Any:
        encoded = jsoncodec.dumps(value)
        await self._set(group_id, key, encoded)
        return jsoncodec.loads(encoded)

    async def delete(self, group_id: str, key: str) -> Any:
        raw = await self._delete(group_id, key)
        return None if raw is None else jsoncodec.loads(raw)

    async def get_group(self, group_id: str) -> list[Any]:
        return [jsoncodec.loads(raw) for _, raw in await self._items(group_id)]

    async def items(self, group_id: str) -> dict[str, Any]:
        return {key: jsoncodec.loads(raw) for key, raw in await self._items(group_id)}

    async def keys(self, group_id: str) -> list[str]:
        return [key for key, _ in await self._items(group_id)]

    @abstractmethod
    async def clear(self, group_id: str) -> None: ...

    @abstractmethod
    async def groups(self) -> list[str]:
        """Every group id that holds at least one key, sorted."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the adapter is unusable afterwards."""

    @abstractmethod
    async def _get(self, group_id: str, key: str) -> bytes | None: ...

    @abstractmethod
    async def _set(self, group_id: str, key: str, value: bytes) -> None: ...

    @abstractmethod
    async def _delete(self, group_id: str, key: str) -> bytes | None: ...

    @abstractmethod
    async def _items(self, group_id: str) -> list[tuple[str, bytes]]:
        """(key, value) pairs of one group, in key order."""
