"""The opt-in to Pydantic-typed bodies: a handler annotated `req: ApiRequest[Order]` (or an
event handler's `input_data: Order`) receives an `Order` instance, validated once, instead
of the parsed JSON."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from motia.steps.schema import FieldError, is_pydantic_model


def request_model(handler: Callable[..., Any]) -> type[BaseModel] | None:
    """`Order` for `handler(req: ApiRequest[Order], ctx)`; None for any other annotation."""
    from motia.types import ApiRequest

    hint = _first_parameter_hint(handler)
    if typing.get_origin(hint) is ApiRequest:
        (body,) = typing.get_args(hint)
        return body if is_pydantic_model(body) else None
    return None


def input_model(handler: Callable[..., Any]) -> type[BaseModel] | None:
    """`Order` for `handler(input_data: Order, ctx)`; None for any other annotation."""
    hint = _first_parameter_hint(handler)
    return hint if is_pydantic_model(hint) else None


def parse(model: type[BaseModel], value: Any) -> tuple[BaseModel | None, list[FieldError]]:
    """The instance, or every problem with `value`."""
    try:
        return model.model_validate(value), []
    except ValidationError as exc:
        return None, [
            FieldError(".".join(str(p) for p in err["loc"]) or "body", err["msg"])
            for err in exc.errors()
        ]


def _first_parameter_hint(handler: Callable[..., Any]) -> Any:
    try:
        parameters = list(inspect.signature(handler).parameters)
        # Annotations may be strings (`from __future__ import annotations`): resolve them in
        # the handler's module, as mypy does.
        hints = typing.get_type_hints(handler)
    except Exception:  # an annotation that does not resolve means no opt-in
        return None
    return hints.get(parameters[0]) if parameters else None
