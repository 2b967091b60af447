"""An emitted event, before the bus fans it out to its subscribers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from motia.clock import new_message_id
from motia.errors import InvalidEmit
from motia.runtime.schedule import parse_schedule
from motia.steps.flow_config import PRIORITY_MAX, PRIORITY_MIN


@dataclass(frozen=True, init=False)
class Event:
    topic: str
    data: Any
    trace_id: str
    flows: list[str] = field(default_factory=list)
    message_group_id: str | None = None
    id: str = field(default_factory=new_message_id)
    # A scheduled emit: when it fires (epoch seconds, runtime clock) and its replace key.
    fire_at: float | None = None
    key: str | None = None
    # `priority` of the emit; None: the subscribing step's default.
    priority: int | None = None

    def __init__(
        self,
        topic: str,
        data: Any,
        trace_id: str,
        flows: list[str] | None = None,
        message_group_id: str | None = None,
        id: str | None = None,
        fire_at: float | None = None,
        key: str | None = None,
        priority: int | None = None,
    ) -> None:
        # One per emit: the fields go straight into the instance's dict, where a frozen
        # dataclass's own __init__ sets them through object.__setattr__ one by one.
        fields = self.__dict__
        fields["topic"] = topic
        fields["data"] = data
        fields["trace_id"] = trace_id
        fields["flows"] = [] if flows is None else flows
        fields["message_group_id"] = message_group_id
        fields["id"] = new_message_id() if id is None else id
        fields["fire_at"] = fire_at
        fields["key"] = key
        fields["priority"] = priority


def parse_emit(
    raw: object, trace_id: str, flows: list[str], *, now: float = 0.0, step: str | None = None
) -> Event:
    """Read `{'topic', 'data', 'messageGroupId'?, 'delay'?, 'at'?, 'key'?, 'priority'?}` as
    users write it; `now` (epoch seconds) is when a `delay` counts from."""
    if not isinstance(raw, dict):
        raise InvalidEmit(
            f"{_where(step)}emit expects a dict like {{'topic': 'order.created', "
            f"'data': {{...}}}}, got {type(raw).__name__}"
        )
    topic = raw.get("topic")
    if not isinstance(topic, str) or not topic:
        raise InvalidEmit(f"{_where(step)}emit needs a non-empty string 'topic'")
    group = raw.get("messageGroupId", raw.get("message_group_id"))
    if group is not None and not isinstance(group, str):
        group = str(group)
    priority = raw.get("priority")
    if priority is not None and (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not PRIORITY_MIN <= priority <= PRIORITY_MAX
    ):
        raise InvalidEmit(
            f"{_where(step)}emit of '{topic}': 'priority' must be a whole number from "
            f"{PRIORITY_MIN} to {PRIORITY_MAX} (higher runs first), got {priority!r}"
        )
    fire_at = key = None
    if "delay" in raw or "at" in raw or "key" in raw:  # most emits are not scheduled
        fire_at, key = parse_schedule(raw, now, f"{_where(step)}emit of '{topic}'")
    return Event(
        topic=topic,
        data=raw.get("data"),
        trace_id=trace_id,
        flows=flows,
        message_group_id=group,
        fire_at=fire_at,
        key=key,
        priority=priority,
    )


def _where(step: str | None) -> str:
    return f"step '{step}': " if step else ""
