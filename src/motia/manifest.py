"""What a project is made of, as data: steps, topics, flows and streams.

`motia build` writes it as `motia-manifest.json`; `motia routes` and `motia flows` print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motia import __version__
from motia.steps.config import Emit
from motia.steps.loader import LoadedProject
from motia.steps.model import Step

MANIFEST_VERSION = 1


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


def _emit_topic(emit: Emit) -> str:
    return emit if isinstance(emit, str) else emit.topic


def subscribes(step: Step) -> list[str]:
    return list(step.event.subscribes) if step.type == "event" else []


def emit_entries(step: Step) -> list[tuple[str, str | None, bool, bool]]:
    """(topic, label, conditional, virtual) for every emit of a step, real then virtual."""
    entries: list[tuple[str, str | None, bool, bool]] = []
    for emits, virtual in ((step.config.emits, False), (step.config.virtual_emits, True)):
        for emit in emits:
            if isinstance(emit, str):
                entries.append((emit, None, False, virtual))
            else:
                entries.append((emit.topic, emit.label, emit.conditional, virtual))
    return entries


def edges(steps: list[Step]) -> list[Edge]:
    """Every emitter -> subscriber connection through a topic."""
    listeners: dict[str, list[tuple[str, bool]]] = {}
    for step in steps:
        for topic in subscribes(step):
            listeners.setdefault(topic, []).append((step.name, False))
        for topic in step.config.virtual_subscribes:
            listeners.setdefault(topic, []).append((step.name, True))
    found: list[Edge] = []
    for step in steps:
        for topic, label, conditional, virtual in emit_entries(step):
            for target, virtual_target in listeners.get(topic, []):
                found.append(
                    Edge(step.name, topic, target, virtual or virtual_target, label, conditional)
                )
    return found


def unsubscribed_topics(steps: list[Step]) -> dict[str, list[str]]:
    """Topics a step really emits (its `emits`) that no event step subscribes to, with
    their emitters: such events go nowhere. A noop's virtualSubscribes only draws an edge."""
    subscribed = {topic for step in steps for topic in subscribes(step)}
    found: dict[str, list[str]] = {}
    for step in steps:
        for topic, _label, _conditional, virtual in emit_entries(step):
            if not virtual and topic not in subscribed:
                emitters = found.setdefault(topic, [])
                if step.name not in emitters:
                    emitters.append(step.name)
    return dict(sorted(found.items()))


def flow_names(steps: list[Step]) -> list[str]:
    names: dict[str, None] = {}
    for step in steps:
        for flow in step.flows:
            names.setdefault(flow)
    return list(names)


def _rel(project_dir: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def step_entry(project_dir: Path, step: Step) -> dict[str, Any]:
    config = step.config
    entry: dict[str, Any] = {
        "name": step.name,
        "type": step.type,
        "file": _rel(project_dir, step.file),
        "language": step.language,
        "description": config.description,
        "flows": list(step.flows),
        "emits": [_emit_topic(e) for e in config.emits],
        "subscribes": subscribes(step),
        "virtualEmits": [_emit_topic(e) for e in config.virtual_emits],
        "virtualSubscribes": list(config.virtual_subscribes),
    }
    if step.type == "api":
        entry["method"] = step.api.method
        entry["path"] = step.api.path
        entry["bodySchema"] = step.body_schema.json_schema if step.body_schema else None
        entry["responseSchema"] = {
            str(status): schema.json_schema for status, schema in step.response_schemas.items()
        }
        entry["queryParams"] = [q.model_dump(exclude_none=True) for q in step.api.query_params]
    elif step.type == "event":
        entry["input"] = step.input_schema.json_schema if step.input_schema else None
        infrastructure = step.event.infrastructure
        if infrastructure is not None:
            entry["infrastructure"] = infrastructure.model_dump(by_alias=True, exclude_none=True)
    elif step.type == "cron":
        entry["cron"] = step.cron.cron
    return entry


def build_manifest(project_dir: Path, project: LoadedProject) -> dict[str, Any]:
    steps = project.steps
    topics: dict[str, dict[str, list[str]]] = {}

    def topic(name: str) -> dict[str, list[str]]:
        return topics.setdefault(
            name,
            {"emitters": [], "subscribers": [], "virtualEmitters": [], "virtualSubscribers": []},
        )

    for step in steps:
        for name, _label, _conditional, virtual in emit_entries(step):
            bucket = topic(name)["virtualEmitters" if virtual else "emitters"]
            if step.name not in bucket:
                bucket.append(step.name)
        for name in subscribes(step):
            topic(name)["subscribers"].append(step.name)
        for name in step.config.virtual_subscribes:
            topic(name)["virtualSubscribers"].append(step.name)

    all_edges = edges(steps)
    flows = []
    for flow in flow_names(steps):
        members = [s.name for s in steps if flow in s.flows]
        flows.append(
            {
                "name": flow,
                "steps": members,
                "edges": [
                    {
                        "from": e.source,
                        "topic": e.topic,
                        "to": e.target,
                        "virtual": e.virtual,
                        **({"label": e.label} if e.label else {}),
                    }
                    for e in all_edges
                    if e.source in members and e.target in members
                ],
            }
        )
    streams = [
        {
            "name": stream.name,
            "file": _rel(project_dir, stream.file),
            "schema": stream.schema.json_schema if stream.schema else None,
            "baseConfig": {
                "storageType": stream.config.base_config.storage_type,
                "ttl": stream.config.base_config.ttl,
            },
        }
        for stream in project.streams
    ]
    return {
        "manifestVersion": MANIFEST_VERSION,
        "motiaVersion": __version__,
        "project": project_dir.resolve().name,
        "steps": [step_entry(project_dir, step) for step in steps],
        "topics": [{"topic": name, **topics[name]} for name in sorted(topics)],
        "flows": flows,
        "streams": streams,
        "warnings": [str(p) for p in project.warnings],
    }
