"""What the workbench draws: flows as graphs of steps and topic edges, built from code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motia.steps import graph
from motia.steps.model import Step
from motia.steps.triggers import describe_trigger

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
        "emits": [_emit(e) for e in graph.emit_entries(step) if not e.virtual],
        "virtualEmits": [_emit(e) for e in graph.emit_entries(step) if e.virtual],
        "virtualSubscribes": list(config.virtual_subscribes),
        "subscribes": graph.subscribes(step),
    }
    if step.type == "api":
        node.update({"method": step.api.method, "path": step.api.path})
    if step.type == "cron":
        node["cron"] = step.cron.cron
    if step.type == "event" and (flow_control := step.event.flow_control_summary()):
        node["flowControl"] = flow_control
    trigger = describe_trigger(step)
    if trigger is not None:  # a 1.0-form step: what fires it, and its condition
        node["trigger"] = trigger
    return node


def flows(steps: list[Step], project_dir: Path) -> list[dict[str, Any]]:
    """One graph per flow name; steps without `flows` are drawn under "No flow"."""
    by_flow = graph.steps_by_flow(steps, unnamed=NO_FLOW)
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
    return [
        {
            "id": f"{edge.source}->{edge.target}:{edge.topic}",
            "source": edge.source,
            "target": edge.target,
            "topic": edge.topic,
            "label": edge.label or edge.topic,
            "conditional": edge.conditional,
            "virtual": edge.virtual,
        }
        for edge in graph.edges(steps)
    ]


def _emit(entry: graph.EmitEntry) -> dict[str, Any]:
    return {"topic": entry.topic, "label": entry.label, "conditional": entry.conditional}


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path
