"""Stream files, Python or runner-described: each config validated and its schema compiled,
and one definition kept per stream name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from motia.errors import Problem
from motia.steps.config import StreamConfig
from motia.steps.load_support import Report, import_file, relative, validation_problems
from motia.steps.model import LoadedProject, StreamDefinition
from motia.steps.schema import SchemaDefinitionError, compile_schema


def load_python_streams(
    project_dir: Path, paths: list[Path], report: Report
) -> list[StreamDefinition]:
    """The `*_stream.py` files: each imported for its module-level `config`."""
    streams = []
    for path in paths:
        rel = relative(project_dir, path)
        module = import_file(project_dir, path, rel, report)
        if module is None:
            continue
        stream = build_stream(path, rel, getattr(module, "config", None), report)
        if stream is not None:
            streams.append(stream)
    return streams


def build_stream(
    path: Path,
    rel: Path,
    raw: Any,
    report: Report,
    can_access: Callable[..., Any] | None = None,
) -> StreamDefinition | None:
    if not isinstance(raw, dict):
        report(
            Problem(
                "has no module-level `config` dict",
                file=rel,
                hint="define config = {'name': ..., 'schema': ..., "
                "'baseConfig': {'storageType': 'default'}}",
            )
        )
        return None
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    if can_access is not None:
        raw = {**raw, "canAccess": can_access}
    try:
        config = StreamConfig.model_validate(raw)
    except ValidationError as exc:
        for problem in validation_problems(exc, rel, name, StreamConfig):
            report(problem)
        return None
    try:
        schema = compile_schema(config.schema_)
    except SchemaDefinitionError as exc:
        report(Problem(str(exc), file=rel, step=config.name, field="schema"))
        return None
    return StreamDefinition(file=path, config=config, schema=schema)


def keep_the_last_stream_of_each_name(project_dir: Path, project: LoadedProject) -> None:
    """Two stream files with one name: as in classic Motia the later one wins, which here
    means the later in sorted path order (`steps/b_stream.py` over `steps/a_stream.py`),
    whatever the languages; the others are named in a warning."""
    by_name: dict[str, list[StreamDefinition]] = {}
    for stream in project.streams:
        by_name.setdefault(stream.name, []).append(stream)
    for name, definitions in by_name.items():
        if len(definitions) < 2:
            continue
        definitions.sort(key=lambda s: relative(project_dir, s.file).as_posix())
        *dropped, kept = definitions
        for stream in dropped:
            project.streams.remove(stream)
        earlier = ", ".join(str(relative(project_dir, s.file)) for s in dropped)
        project.problems.append(
            Problem(
                f"stream '{name}' is also defined in {earlier}; this file, the last in path "
                "order, is the one used",
                file=relative(project_dir, kept.file),
                step=name,
                field="name",
                hint="give each stream file its own name, or delete the one not wanted",
                severity="warning",
            )
        )
