"""`types.d.ts` for TypeScript steps: JSON Schema to TypeScript, and the project's
`Handlers` and streams (`motia generate types`; `motia dev` keeps it up to date)."""

from motia.typegen.project import (
    TYPES_FILE,
    has_node_code,
    render_types,
    write_if_changed,
    write_types,
)
from motia.typegen.schema import schema_to_ts, schema_type

__all__ = [
    "TYPES_FILE",
    "has_node_code",
    "render_types",
    "schema_to_ts",
    "schema_type",
    "write_if_changed",
    "write_types",
]
