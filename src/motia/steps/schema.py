"""Schemas given as JSON Schema dicts or Pydantic model classes, compiled once at load."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import jsonschema
from pydantic import BaseModel, ValidationError


class SchemaDefinitionError(Exception):
    """The schema itself is not valid."""


@dataclass(frozen=True)
class FieldError:
    """One violation, addressed like a path into the value (`items.0.name`)."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class Schema:
    """A validator for one schema, with the JSON Schema form kept for docs and tooling."""

    def __init__(self, json_schema: dict[str, Any], check: Callable[[Any], list[FieldError]]):
        self.json_schema = json_schema
        self._check = check

    def validate(self, value: Any) -> list[FieldError]:
        """Every problem with `value`; an empty list when it is valid."""
        return self._check(value)


def is_pydantic_model(spec: object) -> bool:
    return isinstance(spec, type) and issubclass(spec, BaseModel)


def compile_schema(spec: object) -> Schema | None:
    """Build a validator for a JSON Schema dict or Pydantic model class; None means no schema."""
    if spec is None:
        return None
    if is_pydantic_model(spec):
        return _pydantic_schema(spec)  # type: ignore[arg-type]
    if isinstance(spec, dict):
        return _json_schema(spec)
    raise SchemaDefinitionError(
        f"expected a JSON Schema dict or a Pydantic model class, got {type(spec).__name__}"
    )


def _json_schema(spec: dict[str, Any]) -> Schema:
    validator_class = jsonschema.validators.validator_for(
        spec, default=jsonschema.Draft202012Validator
    )
    try:
        validator_class.check_schema(spec)
        fast = fastjsonschema.compile(spec)
    except (jsonschema.SchemaError, fastjsonschema.JsonSchemaDefinitionException) as exc:
        message = exc.message if isinstance(exc, jsonschema.SchemaError) else str(exc)
        raise SchemaDefinitionError(f"invalid JSON Schema: {message}") from exc
    except Exception as exc:  # fastjsonschema raises plain errors on some malformed schemas
        raise SchemaDefinitionError(f"invalid JSON Schema: {exc}") from exc
    complete = validator_class(spec, format_checker=_format_checker(spec))

    def check(value: Any) -> list[FieldError]:
        # The compiled validator answers the common, valid case fast; only a failure pays
        # for the full validator, which reports every violation rather than the first.
        try:
            fast(value)
            return []
        except fastjsonschema.JsonSchemaValueException:
            pass
        errors = sorted(complete.iter_errors(value), key=lambda e: list(map(str, e.path)))
        return [FieldError(_field_of(e), e.message) for e in errors] or [
            FieldError("body", "value does not match the schema")
        ]

    return Schema(spec, check)


def _format_checker(spec: dict[str, Any]) -> jsonschema.FormatChecker:
    """The formats the schema uses, checked as the compiled validator checks them, so that a
    value it refuses for its format (zod's `.url()`, `.email()`) gets an error on its field."""
    checker = jsonschema.FormatChecker()
    for name in _formats_in(spec):
        try:
            fast = fastjsonschema.compile({"type": "string", "format": name})
        except Exception:  # a format fastjsonschema does not know: jsonschema's own check
            continue

        def conforms(value: object, fast: Callable[[Any], Any] = fast) -> bool:
            try:
                fast(value)
            except fastjsonschema.JsonSchemaValueException:
                return False
            return True

        checker.checks(name)(conforms)
    return checker


def _formats_in(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        for value in node.values():
            found |= _formats_in(value)
        return found
    if isinstance(node, list):
        return set().union(*(_formats_in(item) for item in node)) if node else set()
    return set()


def _pydantic_schema(model: type[BaseModel]) -> Schema:
    json_schema = model.model_json_schema()

    def check(value: Any) -> list[FieldError]:
        try:
            model.model_validate(value)
            return []
        except ValidationError as exc:
            return [FieldError(_dotted(err["loc"]) or "body", err["msg"]) for err in exc.errors()]

    return Schema(json_schema, check)


def _field_of(error: jsonschema.ValidationError) -> str:
    """The path of the offending value; for a missing property, the property's own path."""
    path = list(error.absolute_path)
    required = error.validator_value
    if (
        error.validator == "required"
        and isinstance(error.instance, dict)
        and isinstance(required, list)
    ):
        for name in required:
            if name not in error.instance and error.message.startswith(repr(name)):
                path.append(name)
                break
    return _dotted(path) or "body"


def _dotted(path: Any) -> str:
    return ".".join(str(part) for part in path)
