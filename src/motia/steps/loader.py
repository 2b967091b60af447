"""Load a whole project: discover files, import them, validate every config, and report
every problem at once, each with its file, step name, field and a hint."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from croniter import croniter
from pydantic import BaseModel, ValidationError

from motia.errors import Problem
from motia.runners import npm
from motia.runners.describe import describe_files
from motia.runners.languages import LANGUAGES, RunnerLanguage
from motia.runners.process import RunnerFailed
from motia.runners.protocol import FileReport
from motia.runners.remote import RemoteCanAccess, RemoteHandler
from motia.steps.config import CONFIG_MODELS, StreamConfig
from motia.steps.discovery import discover, suggested_name
from motia.steps.graph import emitted_topics
from motia.steps.hints import field_hint, import_failure
from motia.steps.importer import (
    StepImportError,
    activate,
    forget_project_modules,
    import_step_file,
)
from motia.steps.model import Step, StreamDefinition
from motia.steps.project_config import CONFIG_NAMES, apply_project_config, find_project_config
from motia.steps.schema import SchemaDefinitionError, compile_schema, is_pydantic_model
from motia.steps.typed_bodies import input_model, request_model

# How many positional arguments each handler type receives.
HANDLER_ARITY = {"api": 2, "event": 2, "cron": 1}

# How a handler is written, for hints: by language, then step type.
HANDLER_FORMS: dict[str, dict[str, str]] = {
    "python": {
        "api": "async def handler(req, ctx)",
        "event": "async def handler(input_data, ctx)",
        "cron": "async def handler(ctx)",
    },
    "javascript": {
        "api": "export const handler = async (req, ctx) => {...}",
        "event": "export const handler = async (input, ctx) => {...}",
        "cron": "export const handler = async (ctx) => {...}",
    },
    "ruby": {
        "api": "def handler(req, context)",
        "event": "def handler(input, context)",
        "cron": "def handler(context)",
    },
}
HANDLER_FORMS["typescript"] = HANDLER_FORMS["javascript"]


def language_of(path: Path) -> str:
    """The language a step file is written in, as the workbench and manifest show it."""
    if path.suffix == ".rb":
        return "ruby"
    if path.suffix in (".ts", ".mts", ".cts"):
        return "typescript"
    if path.suffix in (".js", ".mjs", ".cjs"):
        return "javascript"
    return "python"


@dataclass
class LoadedProject:
    steps: list[Step] = field(default_factory=list)
    streams: list[StreamDefinition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # From the project's motia_config.py: `authenticate(request)` for stream clients.
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


def load_project(project_dir: Path) -> LoadedProject:
    project_dir = project_dir.resolve()
    files = discover(project_dir)
    activate(project_dir)
    # Every load reads the files as they are now; within one load, a file that one step
    # imports from another is the same module object as the step itself.
    forget_project_modules(project_dir)
    project = LoadedProject()
    report = project.problems.append

    for path in files.deprecated:
        report(
            Problem(
                "files named '*.step.py' / '*.stream.py' are no longer loaded",
                file=_rel(project_dir, path),
                hint=f"rename it to '{suggested_name(path)}'",
                severity="warning",
            )
        )
    runner_files = files.runner_files()
    project_config = find_project_config(project_dir)
    if project_config is not None:
        runner_files.setdefault("node", []).insert(0, project_config)
    for runner, paths in runner_files.items():
        _load_runner_files(project_dir, LANGUAGES[runner], paths, project)
    for path in files.python_steps:
        step = _load_step(project_dir, path, report)
        if step is not None:
            project.steps.append(step)
    for path in files.python_streams:
        stream = _load_stream(project_dir, path, report)
        if stream is not None:
            project.streams.append(stream)

    hook = _load_hooks(project_dir, report)
    if hook is not None:
        if project.authenticate is not None and project_config is not None:
            report(
                Problem(
                    f"stream clients are authenticated by {PROJECT_HOOKS_FILE}; the "
                    f"`streamAuth` of {project_config.name} is not used",
                    file=Path(PROJECT_HOOKS_FILE),
                    hint="keep one of the two",
                    severity="warning",
                )
            )
        project.authenticate = hook
    _check_across_steps(project_dir, project)
    return project


PROJECT_HOOKS_FILE = "motia_config.py"


def _load_hooks(project_dir: Path, report: Callable[[Problem], None]) -> Callable[..., Any] | None:
    """`motia_config.py` at the project root may define `authenticate(request)`."""
    path = project_dir / PROJECT_HOOKS_FILE
    if not path.is_file():
        return None
    module = _import(project_dir, path, Path(PROJECT_HOOKS_FILE), report)
    if module is None:
        return None
    authenticate = getattr(module, "authenticate", None)
    if authenticate is not None and not callable(authenticate):
        report(
            Problem(
                "`authenticate` must be a function",
                file=Path(PROJECT_HOOKS_FILE),
                field="authenticate",
                hint="define `async def authenticate(request)` returning a context or None",
            )
        )
        return None
    return authenticate


def _load_step(project_dir: Path, path: Path, report: Callable[[Problem], None]) -> Step | None:
    rel = _rel(project_dir, path)
    module = _import(project_dir, path, rel, report)
    if module is None:
        return None
    return _build_step(
        path, rel, getattr(module, "config", None), getattr(module, "handler", None), report
    )


def _build_step(
    path: Path,
    rel: Path,
    raw: Any,
    handler: Callable[..., Any] | None,
    report: Callable[[Problem], None],
    language: str = "python",
) -> Step | None:
    """Validate a step's config, whatever language it came from."""
    if not isinstance(raw, dict):
        report(
            Problem(
                "has no module-level `config` dict"
                if raw is None
                else f"`config` must be a dict, not {type(raw).__name__}",
                file=rel,
                hint=_config_hint(language),
            )
        )
        return None
    step_name = raw.get("name") if isinstance(raw.get("name"), str) else None
    step_type = raw.get("type")
    model = CONFIG_MODELS.get(step_type) if isinstance(step_type, str) else None
    if model is None:
        report(
            Problem(
                "missing 'type'" if step_type is None else f"unknown step type {step_type!r}",
                file=rel,
                step=step_name,
                field="type",
                hint="use one of: " + ", ".join(repr(t) for t in CONFIG_MODELS),
            )
        )
        return None
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        for problem in _validation_problems(exc, rel, step_name, _known_fields(model)):
            report(problem)
        return None

    step = Step(file=path, config=config, raw_config=raw, handler=handler, language=language)  # type: ignore[arg-type]
    ok = _check_handler(step, rel, report)
    ok = _compile_step_schemas(step, rel, report) and ok
    if step_type == "cron" and not _valid_cron(step.cron.cron):
        report(
            Problem(
                f"invalid cron expression {step.cron.cron!r}",
                file=rel,
                step=config.name,
                field="cron",
                hint="use 5 fields (minute hour day month weekday) or 6 with leading seconds, "
                "for example '*/5 * * * *'",
            )
        )
        ok = False
    return step if ok else None


def _config_hint(language: str) -> str:
    if language in ("javascript", "typescript"):
        return "export `config` (`export const config = { type: 'api', name: ... }`)"
    if language == "ruby":
        return "define `def config` returning { type: 'event', name: ... }"
    return "define config = {'type': 'api' | 'event' | 'cron' | 'noop', 'name': ...}"


def _load_runner_files(
    project_dir: Path, language: RunnerLanguage, paths: list[Path], project: LoadedProject
) -> None:
    """Steps and streams in another language: a runner reads their configs, which then
    go through the same validation as Python steps."""
    report = project.problems.append
    names = ", ".join(str(_rel(project_dir, p)) for p in paths)
    binary = language.binary_path()
    if binary is None:
        # A Python project's motia.config.ts (classic projects all had one) is worth a
        # warning, not a refusal to start.
        config_only = all(path.name in CONFIG_NAMES for path in paths)
        report(
            Problem(
                f"`{language.binary}` was not found, and these files need the "
                f"{language.label} runner: {names}" + ("; it is not read" if config_only else ""),
                hint=language.install_hint,
                severity="warning" if config_only else "error",
            )
        )
        return
    missing: list[str] = []
    if language.name == "node":
        classic, missing = npm.classic_and_other_missing(project_dir)
        if classic is not None:
            report(classic)
    try:
        reports = describe_files(language, binary, project_dir, paths)
    except RunnerFailed as exc:
        report(Problem(f"the {language.label} runner failed while loading {names}: {exc}"))
        return
    loaded: list[str] = []
    for path, file_report in zip(paths, reports, strict=False):
        rel = _rel(project_dir, path)
        if file_report.error is not None:
            report(_load_error(rel, file_report, missing, project_dir))
            continue
        if file_report.kind == "config":
            project.authenticate = apply_project_config(rel, path, file_report, report)
            if project.authenticate is not None:
                loaded.append(str(path))
            continue
        if file_report.kind == "stream":
            can_access = (
                RemoteCanAccess(language.name, str(path))
                if "canAccess" in file_report.functions
                else None
            )
            stream = _build_stream(path, rel, file_report.config, report, can_access)
            if stream is not None:
                project.streams.append(stream)
                loaded.append(str(path))
            continue
        config = file_report.config or {}
        step_type = config.get("type")
        handler = (
            RemoteHandler(language.name, str(path), str(step_type), str(config.get("name")))
            if file_report.handler
            else None
        )
        step = _build_step(path, rel, file_report.config, handler, report, language_of(path))
        if step is not None:
            project.steps.append(step)
            loaded.append(str(path))
    if loaded:
        project.runner_files[language.name] = loaded
        project.runner_binaries[language.name] = binary


def _load_error(
    rel: Path, file_report: FileReport, missing: list[str], project_dir: Path
) -> Problem:
    error = file_report.error
    assert error is not None
    not_installed = npm.not_installed_problem(rel, error, missing, project_dir)
    if not_installed is not None:
        return not_installed
    # The first frames of the stack say where; the message says what.
    frames = error.stack.strip().splitlines()[1:3] if error.stack else []
    return Problem(
        f"could not be loaded: {error.message}",
        file=rel,
        line=error.line,
        hint=("at " + " | ".join(f.strip() for f in frames)) if frames else None,
    )


def _check_handler(step: Step, rel: Path, report: Callable[[Problem], None]) -> bool:
    arity = HANDLER_ARITY.get(step.type)
    if arity is None:  # noop steps have no handler
        return True
    handler = step.handler
    usage = HANDLER_FORMS[step.language][step.type]
    if handler is None or not callable(handler):
        report(
            Problem(
                "has no `handler` function",
                file=rel,
                step=step.name,
                field="handler",
                hint=f"define `{usage}` in the file",
            )
        )
        return False
    try:
        inspect.signature(handler).bind(*([None] * arity))
    except TypeError:
        report(
            Problem(
                f"`handler` cannot be called with {arity} argument(s)",
                file=rel,
                step=step.name,
                field="handler",
                hint=f"a {step.type} step's handler is `{usage}`",
            )
        )
        return False
    except ValueError:  # builtins without a signature: trust them
        pass
    return True


def _compile_step_schemas(step: Step, rel: Path, report: Callable[[Problem], None]) -> bool:
    ok = True

    def compile_one(spec: object, field_name: str) -> Any:
        nonlocal ok
        try:
            return compile_schema(spec)
        except SchemaDefinitionError as exc:
            ok = False
            report(
                Problem(
                    str(exc),
                    file=rel,
                    step=step.name,
                    field=field_name,
                    hint="give a JSON Schema dict or a Pydantic model class",
                )
            )
            return None

    if step.language == "python" and step.handler is not None:
        ok = _typed_bodies(step, rel, report) and ok
    if step.type == "api":
        step.body_schema = compile_one(step.api.body_schema or step.body_model, "bodySchema")
        for status, spec in (step.api.response_schema or {}).items():
            schema = compile_one(spec, f"responseSchema.{status}")
            if schema is not None:
                step.response_schemas[status] = schema
    elif step.type == "event":
        step.input_schema = compile_one(step.event.input or step.input_model, "input")
    return ok


def _typed_bodies(step: Step, rel: Path, report: Callable[[Problem], None]) -> bool:
    """A handler annotated with a Pydantic model gets instances, but only when the config
    names that model or has no schema: with a JSON Schema dict there (classic's
    `Model.model_json_schema()`), the annotation is documentation and the handler gets the
    parsed JSON, as in classic Motia. Another model class in the config is a contradiction."""
    assert step.handler is not None
    if step.type == "api":
        model, declared, field_name = (
            request_model(step.handler),
            step.api.body_schema,
            "bodySchema",
        )
    elif step.type == "event":
        model, declared, field_name = input_model(step.handler), step.event.input, "input"
    else:
        return True
    if model is None or not (declared is None or declared is model):
        if model is not None and is_pydantic_model(declared):
            report(
                Problem(
                    f"the handler's annotation asks for {model.__name__} instances, but "
                    f"'{field_name}' is another model, {declared.__name__}",
                    file=rel,
                    step=step.name,
                    field=field_name,
                    hint=f"set '{field_name}': {model.__name__}, or leave it out",
                )
            )
            return False
        return True
    if step.type == "api":
        step.body_model = model
    else:
        step.input_model = model
    return True


def _valid_cron(expression: str) -> bool:
    fields = expression.split()
    if len(fields) not in (5, 6):
        return False
    try:
        return bool(croniter.is_valid(expression, second_at_beginning=len(fields) == 6))
    except TypeError:
        return False


def _load_stream(
    project_dir: Path, path: Path, report: Callable[[Problem], None]
) -> StreamDefinition | None:
    rel = _rel(project_dir, path)
    module = _import(project_dir, path, rel, report)
    if module is None:
        return None
    return _build_stream(path, rel, getattr(module, "config", None), report)


def _build_stream(
    path: Path,
    rel: Path,
    raw: Any,
    report: Callable[[Problem], None],
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
        for problem in _validation_problems(exc, rel, name, _known_fields(StreamConfig)):
            report(problem)
        return None
    try:
        schema = compile_schema(config.schema_)
    except SchemaDefinitionError as exc:
        report(Problem(str(exc), file=rel, step=config.name, field="schema"))
        return None
    return StreamDefinition(file=path, config=config, schema=schema)


def _import(
    project_dir: Path, path: Path, rel: Path, report: Callable[[Problem], None]
) -> ModuleType | None:
    try:
        return import_step_file(project_dir, path)
    except StepImportError as exc:
        where, line = exc.location if exc.location else (rel, None)
        # The problem points at the failing line; the message names the file being loaded.
        during = "" if where == rel else f" (while loading {rel})"
        report(import_failure(f"{exc}{during}", where, line, exc.__cause__, exc.hint))
        return None


def _validation_problems(
    exc: ValidationError, rel: Path, step: str | None, known: list[str]
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        kind = err["type"]
        hint: str | None = None
        if kind == "missing":
            message = "required field is missing"
            hint = f"add '{err['loc'][-1]}'"
        elif kind == "extra_forbidden":
            message = "unknown field"
            close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it or check its spelling"
        else:
            message = err["msg"]
            hint = field_hint(err)
        problems.append(Problem(message, file=rel, step=step, field=loc or None, hint=hint))
    return problems


def _known_fields(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _rel(project_dir: Path, path: Path) -> Path:
    try:
        return path.relative_to(project_dir)
    except ValueError:
        return path


def _check_across_steps(project_dir: Path, project: LoadedProject) -> None:
    report = project.problems.append
    seen_names: dict[str, Step] = {}
    seen_routes: dict[tuple[str, str], Step] = {}
    emitted = emitted_topics(project.steps)

    for step in list(project.steps):
        rel = _rel(project_dir, step.file)
        first = seen_names.get(step.name)
        if first is not None:
            project.steps.remove(step)
            report(
                Problem(
                    f"duplicate step name, also used in {_rel(project_dir, first.file)}",
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
                        f"'{other.name}' ({_rel(project_dir, other.file)})",
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
                if topic not in emitted:
                    report(
                        Problem(
                            f"subscribes to topic '{topic}', which no step emits",
                            file=rel,
                            step=step.name,
                            field="subscribes",
                            hint="check the spelling against the emitting step's 'emits'",
                            severity="warning",
                        )
                    )
    _keep_the_last_stream_of_each_name(project_dir, project)


def _keep_the_last_stream_of_each_name(project_dir: Path, project: LoadedProject) -> None:
    """Two stream files with one name: as in classic Motia the later one wins, which here
    means the later in sorted path order (`steps/b_stream.py` over `steps/a_stream.py`),
    whatever the languages; the others are named in a warning."""
    by_name: dict[str, list[StreamDefinition]] = {}
    for stream in project.streams:
        by_name.setdefault(stream.name, []).append(stream)
    for name, definitions in by_name.items():
        if len(definitions) < 2:
            continue
        definitions.sort(key=lambda s: _rel(project_dir, s.file).as_posix())
        *dropped, kept = definitions
        for stream in dropped:
            project.streams.remove(stream)
        earlier = ", ".join(str(_rel(project_dir, s.file)) for s in dropped)
        project.problems.append(
            Problem(
                f"stream '{name}' is also defined in {earlier}; this file, the last in path "
                "order, is the one used",
                file=_rel(project_dir, kept.file),
                step=name,
                field="name",
                hint="give each stream file its own name, or delete the one not wanted",
                severity="warning",
            )
        )


def route_shape(path: str) -> str:
    """`/pets/:id` and `/pets/:petId` are the same route: compare with parameters blanked."""
    return "/".join(":" if part.startswith(":") else part for part in path.rstrip("/").split("/"))
