"""What a project is made of, as data: steps, topics, flows and streams.

`motia build` writes it as `motia-manifest.json`; `motia routes` and `motia flows` print it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motia import __version__
from motia.steps.graph import edges, edges_within, steps_by_flow, subscribes, topics
from motia.steps.loader import LoadedProject
from motia.steps.model import Step
from motia.steps.triggers import describe_trigger

MANIFEST_VERSION = 1


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
        "emits": config.emit_topics(),
        "subscribes": subscribes(step),
        "virtualEmits": config.virtual_emit_topics(),
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
        if flow_control := step.event.flow_control_summary():
            entry["flowControl"] = flow_control
    elif step.type == "cron":
        entry["cron"] = step.cron.cron
    trigger = describe_trigger(step)
    if trigger is not None:
        entry["trigger"] = trigger
    return entry


def build_manifest(project_dir: Path, project: LoadedProject) -> dict[str, Any]:
    steps = project.steps
    all_edges = edges(steps)
    flows = []
    for flow, flow_steps in steps_by_flow(steps).items():
        members = [s.name for s in flow_steps]
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
                    for e in edges_within(all_edges, set(members))
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
        "topics": [
            {
                "topic": name,
                "emitters": ends.emitters,
                "subscribers": ends.subscribers,
                "virtualEmitters": ends.virtual_emitters,
                "virtualSubscribers": ends.virtual_subscribers,
            }
            for name, ends in topics(steps).items()
        ],
        "flows": flows,
        "streams": streams,
        "warnings": [str(p) for p in project.warnings],
    }
