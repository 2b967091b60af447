"""What to tell a user whose step file does not load: a syntax error shown as Python shows
it, and for a config field of the wrong type, what the field takes with an example."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from motia.errors import Problem

IMPORT_HINT = (
    "imports are relative to the project root (`from steps.lib import x`) or to the file "
    "(`from ..lib import x`)"
)

# Field -> (what it takes, an example value). The literals read the same in Python,
# JavaScript and Ruby.
FIELD_FORMS: dict[str, tuple[str, str]] = {
    "name": ("a step name, unique in the project", "'CreateOrder'"),
    "description": ("a sentence saying what the step does", "'Accept an order'"),
    "flows": ("a list of flow names", "['orders']"),
    "subscribes": ("a list of topic names", "['order.created']"),
    "emits": ("a list of topic names (or {topic, label} dicts)", "['order.created']"),
    "virtualEmits": ("a list of topic names (or {topic, label} dicts)", "['order.approved']"),
    "virtualSubscribes": ("a list of topic names", "['order.approved']"),
    "includeFiles": ("a list of paths relative to the step file", "['./prompt.txt']"),
    "method": ("one HTTP method", "'POST'"),
    "path": ("a URL path starting with '/'", "'/orders/:id'"),
    "cron": ("a cron expression (5 fields, or 6 with leading seconds)", "'*/5 * * * *'"),
    "queryParams": ("a list of {name, description} dicts", "[{'name': 'limit'}]"),
    "responseSchema": ("a dict of status code to schema", "{200: {'type': 'object'}}"),
    "middleware": ("a list of middleware functions", "[require_api_key]"),
    "infrastructure": ("a dict with 'handler' and/or 'queue'", "{'queue': {'maxRetries': 3}}"),
    "baseConfig": ("a dict", "{'storageType': 'default'}"),
}
# Fields holding a list of strings: a lone string there was almost certainly meant as one item.
_STRING_LISTS = frozenset({"flows", "subscribes", "emits", "virtualEmits", "virtualSubscribes"})


def import_failure(
    message: str,
    file: Path,
    line: int | None,
    cause: BaseException | None,
    hint: str | None = None,
) -> Problem:
    """A step (or helper) module that raised while importing. A syntax error gets its own
    source line and caret; an import error gets the rule for import paths, unless the caller
    knows a better `hint`."""
    if isinstance(cause, SyntaxError):
        # Python's own rendering: the offending line and a caret under the spot.
        shown = traceback.format_exception_only(type(cause), cause)
        excerpt = [text.rstrip("\n") for text in shown[1:-1] if text.strip()]
        return Problem(
            f"{type(cause).__name__}: {cause.msg}",
            file=file,
            line=line,
            detail="\n".join(excerpt) or None,
        )
    if hint is None and isinstance(cause, ImportError):
        hint = IMPORT_HINT
    return Problem(f"could not be imported: {message}", file=file, line=line, hint=hint)


def field_hint(error: Any) -> str | None:
    """For a pydantic error on a config field: what the field takes, with an example."""
    loc = error.get("loc") or ()
    if not loc or not isinstance(loc[0], str) or loc[0] not in FIELD_FORMS:
        return None
    name = loc[0]
    takes, example = FIELD_FORMS[name]
    given = error.get("input")
    if (
        name in _STRING_LISTS
        and len(loc) == 1
        and error.get("type") == "list_type"
        and isinstance(given, str)
    ):
        example = repr([given])
    return f"'{name}' takes {takes}, for example '{name}': {example}"
