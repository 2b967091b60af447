"""An emitted event, before the bus fans it out to its subscribers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from motia.clock import new_message_id
from motia.errors import InvalidEmit


@dataclass(frozen=True)
class Event:
    topic: str
    data: Any
    trace_id: str
    flows: list[str] = field(default_factory=list)
    message_group_id: str | None = None
    id: str = field(default_factory=new_message_id)


def parse_emit(raw: object, trace_id: str, flows: list[str]) -> Event:
    """Read `{'topic': ..., 'data': ..., 'messageGroupId'?: ...}` as users write it."""
    if not isinstance(raw, dict):
        raise InvalidEmit(
            f"emit expects a dict like {{'topic': 'order.created', 'data': {{...}}}}, "
            f"got {type(raw).__name__}"
        )
    topic = raw.get("topic")
    if not isinstance(topic, str) or not topic:
        raise InvalidEmit("emit needs a non-empty string 'topic'")
    group = raw.get("messageGroupId", raw.get("message_group_id"))
    if group is not None and not isinstance(group, str):
        group = str(group)
    return Event(
        topic=topic, data=raw.get("data"), trace_id=trace_id, flows=flows, message_group_id=group
    )
