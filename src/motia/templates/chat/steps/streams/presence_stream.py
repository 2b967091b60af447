"""Who is in a room right now: group = room, one item per user, gone 30 seconds after the
user's last heartbeat (`POST /rooms/:id/presence`), which the page sends every 10 seconds."""

from typing import Any

from steps.lib.chat import may_watch

from motia import StreamConfig

PRESENCE_TTL = 30  # seconds


def can_access(subscription: dict[str, Any], auth_context: dict[str, Any] | None) -> bool:
    return may_watch(subscription["groupId"], auth_context)


config: StreamConfig = {
    "name": "presence",
    "schema": {
        "type": "object",
        "properties": {"user": {"type": "string"}, "seenAt": {"type": "string"}},
        "required": ["user", "seenAt"],
    },
    "baseConfig": {"storageType": "default", "ttl": PRESENCE_TTL},
    "canAccess": can_access,
}
