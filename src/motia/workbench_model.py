"""What the workbench draws: flows as graphs of steps and topic edges, built from code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motia.steps.config import EmitSpec
from motia.steps.model import Step

NO_FLOW = "No flow"


def step_node(step: Step, project_dir: Path) -> dict[str, Any]:
    config = step.config
    node: dict[str, Any] = {
        "id": step.name,
        "name": step.name,
        "type": step.type,
        "language": step.language,
        "description": config.description,
        "file": str(_relative(step.file, project_dir)),
        "flows": step.flows or [NO_FLOW],
        "emits": [_emit(e) for e in config.emits],
        "virtualEmits": [_emit(e) for e in config.virtual_emits],
        "virtualSubscribes": list(config.virtual_subscribes),
        "subscribes": list(step.event.subscribes) if step.type == "event" else [],
    }
    if step.type == "api":
        node.update({"method": step.api.method, "path": step.api.path})
    if step.type == "cron":
        node["cron"] = step.cron.cron
    return node


def flows(steps: list[Step], project_dir: Path) -> list[dict[str, Any]]:
    """One graph per flow name; steps without `flows` are drawn under "No flow"."""
    by_flow: dict[str, list[Step]] = {}
    for step in steps:
        for flow in step.flows or [NO_FLOW]:
            by_flow.setdefault(flow, []).append(step)
    return [
        {
            "id": flow,
            "steps": [step_node(s, project_dir) for s in members],
            "edges": edges(members),
        }
        for flow, members in sorted(by_flow.items(), key=lambda kv: (kv[0] == NO_FLOW, kv[0]))
    ]


def edges(steps: list[Step]) -> list[dict[str, Any]]:
    """emits → subscribes, real and virtual, with labels and conditional styling."""
    listeners: dict[str, list[tuple[str, bool]]] = {}
    for step in steps:
        if step.type == "event":
            for topic in step.event.subscribes:
                listeners.setdefault(topic, []).append((step.name, False))
        for topic in step.config.virtual_subscribes:
            listeners.setdefault(topic, []).append((step.name, True))
    found: list[dict[str, Any]] = []
    for step in steps:
        for emit, virtual in [(e, False) for e in step.config.emits] + [
            (e, True) for e in step.config.virtual_emits
        ]:
            spec = _emit(emit)
            for target, virtual_target in listeners.get(spec["topic"], []):
                found.append(
                    {
                        "id": f"{step.name}->{target}:{spec['topic']}",
                        "source": step.name,
                        "target": target,
                        "topic": spec["topic"],
                        "label": spec["label"] or spec["topic"],
                        "conditional": spec["conditional"],
                        "virtual": virtual or virtual_target,
                    }
                )
    return found


def _emit(emit: str | EmitSpec) -> dict[str, Any]:
    if isinstance(emit, str):
        return {"topic": emit, "label": None, "conditional": False}
    return {"topic": emit.topic, "label": emit.label, "conditional": emit.conditional}


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path
