"""Delivery of chat traffic to browsers, one group per room (and per DM, and per user's
inbox). Nothing is stored here: messages are sent as `message` events and kept in state
(the history), typing indicators as `typing` events, and "you have a new DM" notices as
`dm` events in the receiver's `inbox.{user}` group."""

from typing import Any

from steps.lib.chat import may_watch

from motia import StreamConfig


def can_access(subscription: dict[str, Any], auth_context: dict[str, Any] | None) -> bool:
    return may_watch(subscription["groupId"], auth_context)


config: StreamConfig = {
    "name": "messages",
    "baseConfig": {"storageType": "default"},
    "canAccess": can_access,
}
