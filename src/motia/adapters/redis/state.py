"""Redis state: shared by every process of a deployment.

Keys (with `P` the configured prefix):

- `P:state:<group>`: a hash of key -> encoded value, one per group;
- `P:state-groups`: the set of groups that hold at least one key, kept in step with the
  hashes in the same atomic step, so `groups()` needs neither KEYS nor SCAN.
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis

from motia.adapters.redis.calls import settle
from motia.adapters.redis.connection import key
from motia.adapters.state.base import StateAdapter

# KEYS: the group's hash, the set of groups; ARGV: the field, the group id.
# Returns the old value (nil when there was none); the group leaves the set when empty.
_DELETE = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  redis.call('HDEL', KEYS[1], ARGV[1])
  if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SREM', KEYS[2], ARGV[2])
  end
end
return old
"""


class RedisStateAdapter(StateAdapter):
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._groups_key = key(prefix, "state-groups")
        self._delete_script = client.register_script(_DELETE)

    def _hash(self, group_id: str) -> str:
        return key(self._prefix, "state", group_id)

    async def _get(self, group_id: str, key: str) -> bytes | None:
        raw: Any = await settle(self._client.hget(self._hash(group_id), key))
        return None if raw is None else bytes(raw)

    async def _set(self, group_id: str, key: str, value: bytes) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(self._hash(group_id), key, value)
            pipe.sadd(self._groups_key, group_id)
            await settle(pipe.execute())

    async def _delete(self, group_id: str, key: str) -> bytes | None:
        raw: Any = await settle(
            self._delete_script(keys=[self._hash(group_id), self._groups_key], args=[key, group_id])
        )
        return None if raw is None else bytes(raw)

    async def _items(self, group_id: str) -> list[tuple[str, bytes]]:
        raw = cast(dict[bytes, bytes], await settle(self._client.hgetall(self._hash(group_id))))
        return sorted((k.decode(), bytes(v)) for k, v in raw.items())

    async def clear(self, group_id: str) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._hash(group_id))
            pipe.srem(self._groups_key, group_id)
            await settle(pipe.execute())

    async def groups(self) -> list[str]:
        members = cast(set[bytes], await settle(self._client.smembers(self._groups_key)))
        return sorted(m.decode() for m in members)
