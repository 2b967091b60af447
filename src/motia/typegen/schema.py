"""JSON Schema -> TypeScript type expressions.

The output is deterministic (it depends only on the schema) and pretty: objects span lines,
two spaces per level, `;` after each member. Unsupported or unknowable parts become
`unknown`, never `any`, so a generated type can be too loose but never unsafe.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
# Nesting beyond this is almost certainly a generator loop; the rest becomes `unknown`.
_MAX_DEPTH = 48
_INDENT = "  "

# Precedence of a type expression: what it may appear in without parentheses.
_UNION, _INTERSECTION, _PRIMARY = 0, 1, 2


@dataclass(frozen=True)
class TsType:
    """A TypeScript type expression and its precedence (to parenthesize when nested)."""

    text: str
    precedence: int = _PRIMARY
    # The members of a union, so that a union of unions stays flat.
    members: tuple[TsType, ...] = ()

    def wrapped(self, precedence: int) -> str:
        return self.text if self.precedence >= precedence else f"({self.text})"


UNKNOWN = TsType("unknown")
NEVER = TsType("never")


@dataclass(frozen=True)
class Member:
    """One property of an object type."""

    name: str
    type: TsType
    optional: bool = False
    doc: str | None = None


def ts_string(value: str) -> str:
    """A single-quoted TypeScript string literal."""
    # json.dumps escapes backslashes and control characters; `"` need not be escaped
    # inside single quotes (every `"` in its output is preceded by its escaping `\`).
    inner = json.dumps(value, ensure_ascii=False)[1:-1].replace('\\"', '"')
    return "'" + inner.replace("'", "\\'") + "'"


def property_key(name: str) -> str:
    """`name` as an object-type key: bare when it is an identifier, quoted otherwise."""
    return name if _IDENTIFIER.match(name) else ts_string(name)


def indent(text: str, levels: int = 1) -> str:
    """Indent every line after the first (the first continues the current line)."""
    return text.replace("\n", "\n" + _INDENT * levels)


def union(types: Iterable[TsType]) -> TsType:
    """`A | B`, without duplicates; `unknown` absorbs everything, `never` vanishes."""
    members: list[TsType] = []
    for t in types:
        for part in t.members or (t,):
            if part.text == UNKNOWN.text:
                return UNKNOWN
            if part.text != NEVER.text and part.text not in {m.text for m in members}:
                members.append(part)
    if not members:
        return NEVER
    if len(members) == 1:
        return members[0]
    text = " | ".join(m.wrapped(_INTERSECTION) for m in members)
    return TsType(text, _UNION, tuple(members))


def intersection(types: Iterable[TsType]) -> TsType:
    """`A & B`, without duplicates; `unknown` vanishes, `never` absorbs everything."""
    members: list[TsType] = []
    for t in types:
        if t.text == NEVER.text:
            return NEVER
        if t.text != UNKNOWN.text and t.text not in {m.text for m in members}:
            members.append(t)
    if not members:
        return UNKNOWN
    if len(members) == 1:
        return members[0]
    return TsType(" & ".join(m.wrapped(_INTERSECTION) for m in members), _INTERSECTION)


def doc_comment(text: str) -> str:
    """A `/** ... */` comment (one line when the text is)."""
    lines = text.strip().replace("*/", "*\\/").splitlines() or [""]
    if len(lines) == 1:
        return f"/** {lines[0]} */"
    return "\n".join(["/**", *(f" * {line}".rstrip() for line in lines), " */"])


def object_type(members: Sequence[Member], index: TsType | None = None) -> TsType:
    """A multi-line object type; `index` adds a `[key: string]` signature."""
    if not members and index is None:
        return TsType("{ [key: string]: never }")
    lines = ["{"]
    for member in members:
        if member.doc:
            lines.append(_INDENT + indent(doc_comment(member.doc)))
        mark = "?" if member.optional else ""
        lines.append(f"{_INDENT}{property_key(member.name)}{mark}: {indent(member.type.text)};")
    if index is not None:
        lines.append(f"{_INDENT}[key: string]: {indent(index.text)};")
    lines.append("}")
    return TsType("\n".join(lines))


def literal(value: Any) -> TsType:
    """The TypeScript literal type of a JSON value."""
    if value is None:
        return TsType("null")
    if isinstance(value, bool):
        return TsType("true" if value else "false")
    if isinstance(value, int):
        return TsType(str(value))
    if isinstance(value, float):
        return TsType(repr(value) if math.isfinite(value) else "number")
    if isinstance(value, str):
        return TsType(ts_string(value))
    if isinstance(value, list):
        return TsType("[" + ", ".join(literal(v).text for v in value) + "]")
    if isinstance(value, dict):
        return object_type([Member(str(k), literal(v)) for k, v in value.items()])
    return UNKNOWN


def schema_type(schema: Any, root: Any = None) -> TsType:
    """The TypeScript type of values matching `schema`; `$ref`s resolve inside `root`
    (default: the schema itself)."""
    return _Converter(schema if root is None else root).convert(schema)


def schema_to_ts(schema: Any, root: Any = None) -> str:
    """`schema_type` as text."""
    return schema_type(schema, root).text


class _Converter:
    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs: list[str] = []  # the $refs being expanded, to stop on recursion
        self.depth = 0

    def convert(self, schema: Any) -> TsType:
        if schema is True or schema is None:
            return UNKNOWN
        if schema is False:
            return NEVER
        if not isinstance(schema, dict) or self.depth > _MAX_DEPTH:
            return UNKNOWN
        self.depth += 1
        try:
            result = self._convert(schema)
        finally:
            self.depth -= 1
        if schema.get("nullable") is True:  # OpenAPI 3.0 style
            result = union([result, TsType("null")])
        return result

    def _convert(self, schema: dict[str, Any]) -> TsType:
        ref = schema.get("$ref")
        if isinstance(ref, str):  # siblings are ignored: generators put only docs there
            return self._ref(ref)
        if schema.get("not") in ({}, True):  # `{"not": {}}` matches nothing (zod's never)
            return NEVER
        if "const" in schema:
            base = literal(schema["const"])
        elif isinstance(schema.get("enum"), list):
            base = union(literal(v) for v in schema["enum"])
        else:
            base = self._by_type(schema)
        parts = [base]
        for keyword in ("anyOf", "oneOf"):
            options = schema.get(keyword)
            if isinstance(options, list) and options:
                parts.append(union(self.convert(o) for o in options))
        every = schema.get("allOf")
        if isinstance(every, list):
            parts.extend(self.convert(s) for s in every)
        return intersection(parts)

    def _ref(self, ref: str) -> TsType:
        if ref in self.refs:  # a recursive schema cannot be inlined
            return UNKNOWN
        target = _resolve(self.root, ref)
        if target is None:
            return UNKNOWN
        self.refs.append(ref)
        try:
            return self.convert(target)
        finally:
            self.refs.pop()

    def _by_type(self, schema: dict[str, Any]) -> TsType:
        declared = schema.get("type")
        if isinstance(declared, str):
            names = [declared]
        elif isinstance(declared, list):
            names = [n for n in declared if isinstance(n, str)]
        elif _OBJECT_KEYWORDS & schema.keys():
            names = ["object"]
        elif _ARRAY_KEYWORDS & schema.keys():
            names = ["array"]
        else:
            return UNKNOWN
        return union(self._one_type(name, schema) for name in names)

    def _one_type(self, name: str, schema: dict[str, Any]) -> TsType:
        if name == "object":
            return self._object(schema)
        if name == "array":
            return self._array(schema)
        return _SIMPLE_TYPES.get(name, UNKNOWN)

    def _object(self, schema: dict[str, Any]) -> TsType:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        listed = schema.get("required")
        required = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
        members = []
        for name, sub in properties.items():
            doc = sub.get("description") if isinstance(sub, dict) else None
            members.append(
                Member(
                    name,
                    self.convert(sub),
                    optional=name not in required,
                    doc=doc if isinstance(doc, str) and doc.strip() else None,
                )
            )
        members += [Member(name, UNKNOWN) for name in required if name not in properties]
        return object_type(members, self._index(schema, members))

    def _index(self, schema: dict[str, Any], members: list[Member]) -> TsType | None:
        """The `[key: string]` value type of an object schema, or None when it is closed."""
        extra = schema.get("additionalProperties")
        patterns = schema.get("patternProperties")
        values: list[TsType] = []
        if isinstance(patterns, dict):
            values += [self.convert(s) for s in patterns.values()]
        if extra is True or (extra is None and not members and not values):
            values.append(UNKNOWN)  # extra keys allowed (or a free-form object)
        elif isinstance(extra, dict):
            values.append(self.convert(extra))
        if not values:
            return None  # closed; extra keys not declared are type errors
        if members:
            # Every declared property must also fit the index signature.
            values += [
                union([m.type, TsType("undefined")]) if m.optional else m.type for m in members
            ]
        return union(values)

    def _array(self, schema: dict[str, Any]) -> TsType:
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):  # 2020-12: `items` describes the rest
            rest: Any = items if "items" in schema else True
        elif isinstance(items, list):  # draft 4-7 tuples
            prefix, rest = items, schema.get("additionalItems", True)
        else:
            element = self.convert(items) if "items" in schema else UNKNOWN
            return TsType(element.wrapped(_PRIMARY) + "[]")
        min_items = schema.get("minItems")
        max_items = schema.get("maxItems")
        required = min_items if isinstance(min_items, int) else 0
        elements = [
            self.convert(s).text + ("" if i < required else "?") for i, s in enumerate(prefix)
        ]
        closed = rest is False or (isinstance(max_items, int) and max_items <= len(prefix))
        if not closed:
            elements.append("..." + self.convert(rest).wrapped(_PRIMARY) + "[]")
        return TsType("[" + ", ".join(elements) + "]")


_SIMPLE_TYPES = {
    "string": TsType("string"),
    "number": TsType("number"),
    "integer": TsType("number"),
    "boolean": TsType("boolean"),
    "null": TsType("null"),
}
_OBJECT_KEYWORDS = frozenset(
    {"properties", "additionalProperties", "patternProperties", "required"}
)
_ARRAY_KEYWORDS = frozenset({"items", "prefixItems"})


def _resolve(root: Any, ref: str) -> Any:
    """The schema a local `$ref` (`#`, `#/$defs/Name`, `#/properties/a`) points to."""
    if not ref.startswith("#"):
        return None  # remote and `$id`-based references are not followed
    node = root
    pointer = unquote(ref[1:])
    if not pointer:
        return node
    if not pointer.startswith("/"):
        return None
    for raw in pointer[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
