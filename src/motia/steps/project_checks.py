"""Checks that need every step at once: unique names, one step per route, and topics
that someone emits."""

from __future__ import annotations

from pathlib import Path

from motia.errors import Problem
from motia.steps.graph import emitted_topics
from motia.steps.load_support import relative
from motia.steps.model import LoadedProject, Step
from motia.steps.triggers import RESERVED_TOPICS


def check_across_steps(project_dir: Path, project: LoadedProject) -> None:
    report = project.problems.append
    seen_names: dict[str, Step] = {}
    seen_routes: dict[tuple[str, str], Step] = {}
    emitted = emitted_topics(project.steps)

    for step in list(project.steps):
        rel = relative(project_dir, step.file)
        first = seen_names.get(step.name)
        if first is not None:
            project.steps.remove(step)
            report(
                Problem(
                    f"duplicate step name, also used in {relative(project_dir, first.file)}",
                    file=rel,
                    step=step.name,
                    field="name",
                    hint="step names must be unique in the project",
                )
            )
        else:
            seen_names[step.name] = step
        if step.type == "api":
            key = (step.api.method, route_shape(step.api.path))
            other = seen_routes.get(key)
            if other is not None:
                if step in project.steps:
                    project.steps.remove(step)
                report(
                    Problem(
                        f"{step.api.method} {step.api.path} is already served by step "
                        f"'{other.name}' ({relative(project_dir, other.file)})",
                        file=rel,
                        step=step.name,
                        field="path",
                        hint="give one of the steps another method or path",
                    )
                )
            else:
                seen_routes[key] = step
        if step.type == "event":
            for topic in step.event.subscribes:
                if topic not in emitted and topic not in RESERVED_TOPICS:
                    v1 = step.trigger_index is not None  # a 1.0-form queue trigger
                    report(
                        Problem(
                            f"subscribes to topic '{topic}', which no step emits",
                            file=rel,
                            step=step.base_name if v1 else step.name,
                            field=f"triggers[{step.trigger_index}].topic" if v1 else "subscribes",
                            hint="check the spelling against the emitting step's 'emits'",
                            severity="warning",
                        )
                    )


def route_shape(path: str) -> str:
    """`/pets/:id` and `/pets/:petId` are the same route: compare with parameters blanked."""
    return "/".join(":" if part.startswith(":") else part for part in path.rstrip("/").split("/"))
