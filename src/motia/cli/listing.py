"""`motia routes` and `motia flows`: the project's API routes and flows as tables."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from motia.cli.options import project_dir_option
from motia.runtime.loading import LoadedProject, load_project
from motia.steps.graph import (
    edges,
    edges_within,
    steps_by_flow,
    subscribes,
    topics,
    unsubscribed_topics,
)
from motia.steps.model import Step
from motia.steps.triggers import trigger_text


def _load(project_dir: Path) -> LoadedProject:
    project_dir = project_dir.resolve()
    if not project_dir.is_dir():
        raise click.ClickException(f"project folder {project_dir} does not exist")
    project = load_project(project_dir)
    if project.errors:
        print(
            f"note: {len(project.errors)} step(s) have errors and are not listed; "
            "`motia build` shows them",
            file=sys.stderr,
        )
    return project


def _console() -> Console:
    # Wide enough for a table when the output is a pipe or a file.
    return Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False)


def _rel(project_dir: Path, step: Step) -> str:
    try:
        return step.file.relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(step.file)


@click.command()
@project_dir_option
def routes(project_dir: Path) -> None:
    """List the API routes: method, path, step and flows."""
    project = _load(project_dir)
    api_steps = [s for s in project.steps if s.type == "api"]
    table = Table(title=f"{len(api_steps)} API route(s)", title_justify="left")
    for column in ("Method", "Path", "Step", "Flows", "File"):
        table.add_column(column, no_wrap=column in ("Method", "Path"))
    for step in sorted(api_steps, key=lambda s: (s.api.path, s.api.method)):
        table.add_row(
            step.api.method,
            step.api.path,
            step.name,
            ", ".join(step.flows) or "-",
            _rel(project_dir, step),
        )
    _console().print(table)


@click.command()
@project_dir_option
def flows(project_dir: Path) -> None:
    """List each flow with its steps and the topics that connect them."""
    project = _load(project_dir)
    console = _console()
    by_flow = steps_by_flow(project.steps)
    all_edges = edges(project.steps)
    if not by_flow:
        console.print("No flows: give steps a `flows` list to group them.")
    for flow, members in by_flow.items():
        member_names = {s.name for s in members}
        steps_table = Table(title=f"Flow {flow}: {len(members)} step(s)", title_justify="left")
        for column in ("Step", "Type", "Trigger", "Emits"):
            steps_table.add_column(column)
        for step in members:
            kind = step.trigger["type"] if step.trigger else step.type
            steps_table.add_row(step.name, kind, _trigger(step), _emits(step))
        console.print(steps_table)
        flow_edges = edges_within(all_edges, member_names)
        if flow_edges:
            edge_table = Table(title=f"Flow {flow}: topic edges", title_justify="left")
            for column in ("From", "Topic", "To", "Kind"):
                edge_table.add_column(column)
            for edge in flow_edges:
                kind = "virtual" if edge.virtual else "event"
                if edge.label:
                    kind += f" ({edge.label})"
                edge_table.add_row(edge.source, edge.topic, edge.target, kind)
            console.print(edge_table)
        console.print()
    loose = [s.name for s in project.steps if not s.flows]
    if loose:
        console.print(f"Steps in no flow: {', '.join(loose)}")
    _print_unsubscribed(console, project.steps)


def _print_unsubscribed(console: Console, steps: list[Step]) -> None:
    """Emitted topics that no step subscribes to: their events go nowhere."""
    unsubscribed = unsubscribed_topics(steps)
    if not unsubscribed:
        return
    ends = topics(steps)
    console.print(
        f"{len(unsubscribed)} emitted topic(s) that no step subscribes to; their events go nowhere:"
    )
    table = Table()
    for column in ("Topic", "Emitted by", "Drawn to (virtual only)"):
        table.add_column(column)
    for topic, emitters in unsubscribed.items():
        drawn = ends[topic].virtual_subscribers
        table.add_row(topic, ", ".join(emitters), ", ".join(drawn) or "-")
    console.print(table)


def _trigger(step: Step) -> str:
    v1 = trigger_text(step)
    if v1 is not None:
        return v1
    if step.type == "api":
        return f"{step.api.method} {step.api.path}"
    if step.type == "event":
        limits = _flow_control(step)
        return "on " + ", ".join(subscribes(step)) + (f" ({limits})" if limits else "")
    if step.type == "cron":
        return f"cron {step.cron.cron}"
    virtual = step.config.virtual_subscribes
    return ("on " + ", ".join(virtual) + " (virtual)") if virtual else "-"


def _emits(step: Step) -> str:
    shown = step.config.emit_topics() + [
        f"{topic} (virtual)" for topic in step.config.virtual_emit_topics()
    ]
    return ", ".join(shown) or "-"


def _flow_control(step: Step) -> str:
    """The step's flow control in a few words: `concurrency 1 per data.userId`, ..."""
    summary = step.event.flow_control_summary()

    def per(rule: dict[str, object]) -> str:
        return f" per {rule['key']}" if "key" in rule else ""

    words = []
    if rule := summary.get("concurrency"):
        words.append(f"concurrency {rule['limit']}{per(rule)}")
    if rule := summary.get("throttle"):
        words.append(f"throttle {rule['limit']}/{rule['period']:g} s{per(rule)}")
    if "idempotencyKey" in summary:
        words.append(f"idempotent on {summary['idempotencyKey']}")
    if rule := summary.get("debounce"):
        words.append(f"debounce {rule['period']:g} s{per(rule)}")
    if "priority" in summary:
        words.append(f"priority {summary['priority']}")
    if rule := summary.get("batch"):
        words.append(f"batch {rule['size']}")
    return ", ".join(words)
