"""The flow graph: which step's emits reach which step's subscribes, real and virtual.

The manifest, the workbench, `motia flows` and the loader's unsubscribed-topic warning all
read it from here, so they always draw the same edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from motia.steps.config import EmitSpec
from motia.steps.model import Step


@dataclass(frozen=True)
class EmitEntry:
    """One entry of a step's `emits` (real) or `virtualEmits` (only drawn)."""

    topic: str
    label: str | None
    conditional: bool
    virtual: bool


@dataclass(frozen=True)
class Edge:
    """`source` emits `topic` and `target` subscribes to it; `virtual` when either side is
    only drawn (virtualEmits / virtualSubscribes)."""

    source: str
    topic: str
    target: str
    virtual: bool
    label: str | None = None
    conditional: bool = False


def subscribes(step: Step) -> list[str]:
    """The topics that trigger a step: an event step's `subscribes`, nothing for others."""
    return list(step.event.subscribes) if step.type == "event" else []


def emit_entries(step: Step) -> list[EmitEntry]:
    """Every emit of a step, real then virtual."""
    entries: list[EmitEntry] = []
    for emits, virtual in ((step.config.emits, False), (step.config.virtual_emits, True)):
        for emit in emits:
            if isinstance(emit, EmitSpec):
                entries.append(EmitEntry(emit.topic, emit.label, emit.conditional, virtual))
            else:
                entries.append(EmitEntry(emit, None, False, virtual))
    return entries


@dataclass
class TopicEnds:
    """Who is at each end of one topic, real and drawn, in step order."""

    emitters: list[str] = field(default_factory=list)
    subscribers: list[str] = field(default_factory=list)
    virtual_emitters: list[str] = field(default_factory=list)
    virtual_subscribers: list[str] = field(default_factory=list)


def topics(steps: list[Step]) -> dict[str, TopicEnds]:
    """Every topic named anywhere, with its emitters and subscribers, sorted by topic."""
    found: dict[str, TopicEnds] = {}
    for step in steps:
        for entry in emit_entries(step):
            ends = found.setdefault(entry.topic, TopicEnds())
            bucket = ends.virtual_emitters if entry.virtual else ends.emitters
            if step.name not in bucket:
                bucket.append(step.name)
        for topic in subscribes(step):
            found.setdefault(topic, TopicEnds()).subscribers.append(step.name)
        for topic in step.config.virtual_subscribes:
            found.setdefault(topic, TopicEnds()).virtual_subscribers.append(step.name)
    return dict(sorted(found.items()))


def emitted_topics(steps: list[Step]) -> set[str]:
    """Every topic some step emits or draws an emit to."""
    return {entry.topic for step in steps for entry in emit_entries(step)}


def edges(steps: list[Step]) -> list[Edge]:
    """Every emitter -> subscriber connection through a topic, in step order."""
    listeners: dict[str, list[tuple[str, bool]]] = {}
    for step in steps:
        for topic in subscribes(step):
            listeners.setdefault(topic, []).append((step.name, False))
        for topic in step.config.virtual_subscribes:
            listeners.setdefault(topic, []).append((step.name, True))
    found: list[Edge] = []
    for step in steps:
        for entry in emit_entries(step):
            for target, virtual_target in listeners.get(entry.topic, []):
                found.append(
                    Edge(
                        step.name,
                        entry.topic,
                        target,
                        entry.virtual or virtual_target,
                        entry.label,
                        entry.conditional,
                    )
                )
    return found


def edges_within(all_edges: list[Edge], members: set[str]) -> list[Edge]:
    """The edges whose both ends are among `members` (the steps of one flow)."""
    return [e for e in all_edges if e.source in members and e.target in members]


def unsubscribed_topics(steps: list[Step]) -> dict[str, list[str]]:
    """Topics a step really emits (its `emits`) that no event step subscribes to, with
    their emitters: such events go nowhere. A noop's virtualSubscribes only draws an edge."""
    return {
        topic: ends.emitters
        for topic, ends in topics(steps).items()
        if ends.emitters and not ends.subscribers
    }


def steps_by_flow(steps: list[Step], unnamed: str | None = None) -> dict[str, list[Step]]:
    """The steps of each flow, flows in order of first appearance. Steps in no flow are
    left out, or grouped under `unnamed` when it is given."""
    by_flow: dict[str, list[Step]] = {}
    for step in steps:
        names = step.flows or ([unnamed] if unnamed is not None else [])
        for flow in dict.fromkeys(names):
            by_flow.setdefault(flow, []).append(step)
    return by_flow
