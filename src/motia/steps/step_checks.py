"""A step's config, whatever language it came from: validated against its type's model, its
handler's signature, its schemas compiled and its cron expression parsed. Python steps and
runner-described steps both end here."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from croniter import croniter
from pydantic import ValidationError

from motia.errors import Problem
from motia.steps.config import CONFIG_MODELS
from motia.steps.flow_config import misplaced_flow_keys
from motia.steps.load_support import Report, validation_problems
from motia.steps.model import Step
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


def build_step(
    path: Path,
    rel: Path,
    raw: Any,
    handler: Callable[..., Any] | None,
    report: Report,
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
    misplaced = misplaced_flow_keys(raw, str(step_type))
    if misplaced:
        for name in misplaced:
            report(
                Problem(
                    f"'{name}' is flow control, which applies to event steps only (this is "
                    f"a {step_type} step)",
                    file=rel,
                    step=step_name,
                    field=name,
                    hint="remove it, or move the work to an event step this step emits to",
                )
            )
        return None
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        for problem in validation_problems(exc, rel, step_name, model):
            report(problem)
        return None

    if language != "python" and getattr(config, "executor", "thread") == "process":
        report(
            Problem(
                f'"executor": "process" is for Python steps; this {language} step runs in '
                f"the {language} runner",
                file=rel,
                step=config.name,
                field="executor",
                hint='remove "executor" (or set it to "thread")',
            )
        )
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


def _check_handler(step: Step, rel: Path, report: Report) -> bool:
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


def _compile_step_schemas(step: Step, rel: Path, report: Report) -> bool:
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


def _typed_bodies(step: Step, rel: Path, report: Report) -> bool:
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
