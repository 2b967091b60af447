"""An OpenAPI 3.1 document built from a project's API steps.

Paths come from the step paths (`/pets/:id` becomes `/pets/{id}` with the parameter
declared), request bodies from `bodySchema`, responses from `responseSchema`, query
parameters from `queryParams`. Every operation also documents the error answers the
server itself gives: 400 for a body that is malformed or fails the schema, 401/403 and the
bearer scheme for steps that need a token, and 500 with the trace id when the handler fails.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from typing import Any

from motia.auth.policy import required_scopes
from motia.steps.model import Step
from motia.steps.schema_example import example_of

OPENAPI_VERSION = "3.1.0"
DEFAULT_VERSION = "1.0.0"
_PARAM = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "OPTIONS"})
_REF_PREFIXES = ("#/$defs/", "#/definitions/")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error answered by Motia itself (not by the step's handler).",
    "properties": {
        "error": {"type": "string", "description": "What went wrong."},
        "traceId": {"type": "string", "description": "The trace id of the request."},
        "errors": {
            "type": "array",
            "description": "One entry per schema violation (400 responses only).",
            "items": {"$ref": "#/components/schemas/MotiaFieldError"},
        },
    },
    "required": ["error", "traceId"],
}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "field": {"type": "string", "description": "Dotted path of the value, e.g. items.0.name"},
        "message": {"type": "string"},
    },
    "required": ["field", "message"],
}
# Steps with `auth` need `Authorization: Bearer <JWT>`.
BEARER = "bearerAuth"
BEARER_SCHEME: dict[str, Any] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
TRACE_HEADER: dict[str, Any] = {
    "description": "The trace id of the request; every log line of the flow carries it.",
    "schema": {"type": "string"},
}


def openapi_path(path: str) -> str:
    """`/pets/:id` -> `/pets/{id}`."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


def path_parameters(path: str) -> list[str]:
    return _PARAM.findall(path)


def build_openapi(
    steps: Iterable[Step],
    *,
    title: str,
    version: str = DEFAULT_VERSION,
    description: str | None = None,
    auth_required: bool = False,
) -> dict[str, Any]:
    """The document for every API step in `steps` (other step types are ignored).
    `auth_required`: the project's `auth.required`, for steps that do not say."""
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for step in steps:
        if step.type != "api":
            continue
        api = step.api
        path_item = paths.setdefault(openapi_path(api.path), {})
        path_item[api.method.lower()] = _operation(step, components, auth_required)
        for flow in step.flows:
            tags.setdefault(flow)
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {
            "schemas": {
                "MotiaError": ERROR_SCHEMA,
                "MotiaFieldError": FIELD_ERROR_SCHEMA,
                **components.schemas,
            }
        },
    }
    if components.bearer:
        document["components"]["securitySchemes"] = {BEARER: BEARER_SCHEME}
    if tags:
        document["tags"] = [{"name": name} for name in tags]
    return document


def _operation(step: Step, components: _Components, auth_required: bool) -> dict[str, Any]:
    api = step.api
    operation: dict[str, Any] = {"operationId": step.name}
    if step.flows:
        operation["tags"] = list(step.flows)
    description = api.description
    if description:
        summary = description.strip().splitlines()[0]
        operation["summary"] = summary
        if description.strip() != summary:
            operation["description"] = description.strip()
    else:
        operation["summary"] = step.name
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path_parameters(api.path)
    ]
    for query in api.query_params:
        parameter: dict[str, Any] = {
            "name": query.name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
        }
        if query.description:
            parameter["description"] = query.description
        parameters.append(parameter)
    if parameters:
        operation["parameters"] = parameters

    takes_body = api.method in _BODY_METHODS
    if step.body_schema is not None and takes_body:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    # A body the schema accepts: the API docs' "Try it" starts from it.
                    "example": example_of(step.body_schema.json_schema),
                    "schema": components.embed(step.body_schema.json_schema, step.name + "Body"),
                }
            },
        }

    responses: dict[str, Any] = {}
    for status in sorted(step.response_schemas):
        schema = step.response_schemas[status]
        responses[str(status)] = {
            "description": _status_text(status),
            "headers": {"x-trace-id": TRACE_HEADER},
            "content": {
                "application/json": {
                    "schema": components.embed(schema.json_schema, f"{step.name}Response{status}")
                }
            },
        }
    if not any(200 <= status < 400 for status in step.response_schemas):
        # No documented success: the handler may answer with any status and body.
        responses["default"] = {
            "description": "The handler's response",
            "headers": {"x-trace-id": TRACE_HEADER},
        }
    if takes_body or api.method == "DELETE":
        reason = (
            "The body is not valid JSON or does not match the body schema"
            if step.body_schema is not None
            else "The body is not valid JSON"
        )
        responses.setdefault("400", _error_response(reason))
    scopes = required_scopes(api.auth, auth_required)
    if scopes is not None:
        # OpenAPI 3.1 lets a bearer requirement list the scopes (as role names).
        operation["security"] = [{BEARER: list(scopes)}]
        components.bearer = True
        responses.setdefault("401", _error_response("No valid bearer token (JWT)"))
        if scopes:
            responses.setdefault("403", _error_response("The token lacks a required scope"))
    responses.setdefault("413", _error_response("The body is larger than the server accepts"))
    if api.rate_limit:  # the step's own limit (the project's default is not known here)
        responses.setdefault("429", _error_response("Too many requests: see Retry-After"))
    responses.setdefault("500", _error_response("The handler failed; search the logs by traceId"))
    operation["responses"] = responses
    return operation


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"x-trace-id": TRACE_HEADER},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MotiaError"}}},
    }


_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _status_text(status: int) -> str:
    return _STATUS_TEXT.get(status, f"Status {status}")


class _Components:
    """Moves the `$defs` of step schemas (e.g. nested Pydantic models) into
    `components.schemas`, where references inside one OpenAPI document can reach them."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self.bearer = False  # an operation needs a bearer token

    def embed(self, schema: dict[str, Any], owner: str) -> dict[str, Any]:
        schema = copy.deepcopy(schema)
        renames: dict[str, str] = {}
        for key in ("$defs", "definitions"):
            defs = schema.pop(key, None)
            if not isinstance(defs, dict):
                continue
            for name, definition in defs.items():
                renames[f"#/{key}/{name}"] = self._register(name, definition, owner)
        schema.pop("$schema", None)
        if renames:
            schema = _rewrite_refs(schema, renames)
            for name in set(renames.values()):
                target = name.rsplit("/", 1)[1]
                self.schemas[target] = _rewrite_refs(self.schemas[target], renames)
        return schema

    def _register(self, name: str, definition: Any, owner: str) -> str:
        candidate = name
        existing = self.schemas.get(candidate)
        if existing is not None and existing != definition:
            candidate = f"{owner}{name}"
            index = 2
            while candidate in self.schemas and self.schemas[candidate] != definition:
                candidate = f"{owner}{name}{index}"
                index += 1
        self.schemas[candidate] = definition
        return f"#/components/schemas/{candidate}"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIXES):
                out[key] = renames.get(value, value)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def operations(document: dict[str, Any]) -> Sequence[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation of a document, for listings."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            found.append((method.upper(), path, operation))
    return found
