"""The stream store interface: items kept per stream and group, each a JSON object with an
id, optionally expiring after a TTL. The base class owns encoding, TTLs and update
operations; a backend implements a few raw primitives on encoded values."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Literal

from motia import jsoncodec
from motia.clock import Clock

Item = dict[str, Any]
# What a write did: made a new item, replaced a live one, or replaced one that had expired
# but was not yet swept (its subscribers still need to hear that it went away).
PutResult = Literal["created", "updated", "revived"]
UPDATE_OPS = ("set", "merge", "increment", "decrement", "remove")


class StreamUpdateError(ValueError):
    """An update operation is malformed or does not fit the item."""


class StreamStore(ABC):
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()

    async def get(self, stream: str, group_id: str, item_id: str) -> Item | None:
        raw = await self._get(stream, group_id, item_id, self.clock.time())
        return None if raw is None else _item(raw, item_id)

    async def set(
        self, stream: str, group_id: str, item_id: str, data: Item, ttl: float | None
    ) -> tuple[Item, PutResult]:
        """Store the item; returns it and what the write did."""
        stored = {k: v for k, v in data.items() if k not in ("id", "__motia")}
        encoded = jsoncodec.dumps(stored)
        now = self.clock.time()
        created = await self._put(
            stream, group_id, item_id, encoded, now + ttl if ttl else None, now
        )
        return _item(encoded, item_id), created

    async def delete(self, stream: str, group_id: str, item_id: str) -> Item | None:
        raw = await self._delete(stream, group_id, item_id, self.clock.time())
        return None if raw is None else _item(raw, item_id)

    async def get_group(self, stream: str, group_id: str) -> list[Item]:
        rows = await self._group(stream, group_id, self.clock.time())
        return [_item(raw, item_id) for item_id, raw in rows]

    @abstractmethod
    async def groups(self, stream: str) -> list[str]: ...

    @abstractmethod
    async def expired(self) -> list[tuple[str, str, str]]:
        """Remove expired items; returns (stream, group, id) of each so subscribers can be
        told they are gone."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @abstractmethod
    async def _get(self, stream: str, group_id: str, item_id: str, now: float) -> bytes | None: ...

    @abstractmethod
    async def _put(
        self,
        stream: str,
        group_id: str,
        item_id: str,
        value: bytes,
        expires_at: float | None,
        now: float,
    ) -> PutResult:
        """Store the value; say whether it created, replaced or revived the item."""

    @abstractmethod
    async def _delete(
        self, stream: str, group_id: str, item_id: str, now: float
    ) -> bytes | None: ...

    @abstractmethod
    async def _group(self, stream: str, group_id: str, now: float) -> list[tuple[str, bytes]]: ...


def _item(raw: bytes, item_id: str) -> Item:
    data = jsoncodec.loads(raw)
    data["id"] = item_id
    return data  # type: ignore[no-any-return]


def apply_ops(data: Item, ops: Sequence[dict[str, Any]]) -> Item:
    """`set`, `merge`, `increment`, `decrement` and `remove` on dotted paths
    (`{"type": "increment", "path": "stats.views", "by": 1}`)."""
    result = copy.deepcopy(data)
    if isinstance(ops, dict) or not isinstance(ops, Sequence):
        raise StreamUpdateError("update takes a list of operations")
    for index, op in enumerate(ops):
        if not isinstance(op, dict) or op.get("type") not in UPDATE_OPS:
            raise StreamUpdateError(
                f"operation {index}: 'type' must be one of {', '.join(UPDATE_OPS)}"
            )
        kind = op["type"]
        path = _path(op.get("path"), index, required=kind != "merge")
        if kind == "merge":
            value = op.get("value")
            if not isinstance(value, dict):
                raise StreamUpdateError(f"operation {index}: merge needs an object 'value'")
            target = _walk(result, path, index, create=True) if path else result
            assert target is not None  # created on the way
            target.update(copy.deepcopy(value))
            continue
        parent = _walk(result, path[:-1], index, create=kind != "remove")
        if parent is None:
            continue
        key = path[-1]
        if kind == "set":
            parent[key] = copy.deepcopy(op.get("value"))
        elif kind == "remove":
            parent.pop(key, None)
        else:
            by = op.get("by", 1)
            current = parent.get(key, 0)
            if isinstance(by, bool) or not isinstance(by, (int, float)):
                raise StreamUpdateError(f"operation {index}: 'by' must be a number")
            if isinstance(current, bool) or not isinstance(current, (int, float)):
                raise StreamUpdateError(f"operation {index}: '{'.'.join(path)}' is not a number")
            parent[key] = current + by if kind == "increment" else current - by
    return result


def _path(raw: object, index: int, required: bool) -> list[str]:
    if raw is None or raw == "":
        if required:
            raise StreamUpdateError(f"operation {index}: 'path' is required")
        return []
    if isinstance(raw, str):
        return raw.split(".")
    if isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        return list(raw)
    raise StreamUpdateError(f"operation {index}: 'path' must be a dotted string or a list")


def _walk(data: Item, path: list[str], index: int, create: bool) -> Item | None:
    node = data
    for part in path:
        child = node.get(part)
        if child is None:
            if not create:
                return None
            child = node[part] = {}
        if not isinstance(child, dict):
            raise StreamUpdateError(f"operation {index}: '{part}' is not an object")
        node = child
    return node
