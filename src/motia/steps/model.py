"""A loaded step or stream: its validated config, handler and compiled schemas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from motia.errors import Problem
from motia.steps.config import (
    ApiStepConfig,
    CronStepConfig,
    EventStepConfig,
    StepConfig,
    StreamConfig,
)
from motia.steps.schema import Schema


@dataclass(eq=False)
class Step:
    """One step file, ready to run."""

    file: Path
    config: StepConfig
    raw_config: dict[str, Any]
    handler: Callable[..., Any] | None
    language: str = "python"
    body_schema: Schema | None = None
    input_schema: Schema | None = None
    response_schemas: dict[int, Schema] = field(default_factory=dict)
    # Set when the handler's annotation asks for a Pydantic instance (steps/typed_bodies.py).
    body_model: type[BaseModel] | None = None
    input_model: type[BaseModel] | None = None
    # A 1.0-form step (steps/triggers.py): the trigger this step serves, the name of its
    # condition, and the name the user gave the step (several triggers make several steps).
    trigger: dict[str, Any] | None = None
    condition: str | None = None
    base_name: str | None = None
    trigger_index: int | None = None
    # Read on every invocation: computed once from the config.
    name: str = field(init=False)
    type: str = field(init=False)
    flows: list[str] = field(init=False)
    emits: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.config.name
        self.type = self.config.type
        self.flows = self.config.flows
        self.emits = frozenset(self.config.emit_topics())

    @property
    def api(self) -> ApiStepConfig:
        assert isinstance(self.config, ApiStepConfig)
        return self.config

    @property
    def event(self) -> EventStepConfig:
        assert isinstance(self.config, EventStepConfig)
        return self.config

    @property
    def cron(self) -> CronStepConfig:
        assert isinstance(self.config, CronStepConfig)
        return self.config


@dataclass(eq=False)
class StreamDefinition:
    """One stream file: the stream runtime serves it through `ctx.streams`."""

    file: Path
    config: StreamConfig
    schema: Schema | None = None

    @property
    def name(self) -> str:
        return self.config.name


@dataclass
class LoadedProject:
    """Everything a load found: the steps and streams that passed every check, and every
    problem, errors and warnings, each with its file."""

    steps: list[Step] = field(default_factory=list)
    streams: list[StreamDefinition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # `authenticate(request)` for stream clients: from motia_config.py, or the
    # `streamAuth` of motia.config.ts.
    authenticate: Callable[..., Any] | None = None
    # Files that run in runners, by runner name, and the binary that runs each.
    runner_files: dict[str, list[str]] = field(default_factory=dict)
    runner_binaries: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]
