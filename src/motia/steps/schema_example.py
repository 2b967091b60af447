"""A value that satisfies a JSON Schema, to prefill a request body in the workbench and the
API docs: the schema's own example if it has one, otherwise the required fields filled in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_MAX_DEPTH = 8
_FORMATS = {
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "ipv4": "127.0.0.1",
}


def example_of(schema: Any) -> Any:
    """`example`, `examples[0]`, `default`, `const` or the first `enum` value where the
    schema gives one; objects get their required properties (every property when none is
    required), strings, numbers and arrays respect their length and range bounds."""
    return _example(schema, schema, "", 0)


def _example(schema: Any, root: Any, name: str, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return _example(target, root, name, depth + 1)
    if "example" in schema:
        return schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for key in ("oneOf", "anyOf"):
        choices = schema.get(key)
        if isinstance(choices, list) and choices:
            choice = next((c for c in choices if _type_of(c) != "null"), choices[0])
            return _example(choice, root, name, depth + 1)
    parts = schema.get("allOf")
    if isinstance(parts, list):
        merged: dict[str, Any] = {}
        for part in parts:
            value = _example(part, root, name, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = _type_of(schema)
    if kind == "object":
        properties = schema.get("properties") or {}
        required = [key for key in schema.get("required") or [] if isinstance(key, str)]
        chosen = required or list(properties)
        return {key: _example(properties.get(key, {}), root, key, depth + 1) for key in chosen}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        item = _example(schema.get("items", {}), root, name, depth + 1)
        return [item] * min(count, 10)
    if kind == "string":
        return _string(schema, name)
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    return None


def _type_of(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
    return kind if isinstance(kind, str) else None


def _string(schema: dict[str, Any], name: str) -> str:
    fmt = schema.get("format")
    now = datetime.now(UTC).replace(microsecond=0)
    if fmt == "date-time":
        return now.isoformat().replace("+00:00", "Z")
    if fmt == "date":
        return now.date().isoformat()
    if fmt in _FORMATS:
        return _FORMATS[fmt]
    text = f"example {name}" if name else "string"
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(text) < low:
        text += "x" * (low - len(text))
    if isinstance(high, int):
        text = text[:high]
    return text


def _number(schema: dict[str, Any], kind: str) -> int | float:
    value: float = 1
    if isinstance(schema.get("minimum"), (int, float)):
        value = schema["minimum"]
    elif isinstance(schema.get("exclusiveMinimum"), (int, float)):
        value = schema["exclusiveMinimum"] + 1
    if isinstance(schema.get("maximum"), (int, float)):
        value = min(value, schema["maximum"])
    elif isinstance(schema.get("exclusiveMaximum"), (int, float)):
        value = min(value, schema["exclusiveMaximum"] - 1)
    return int(value) if kind == "integer" else value
