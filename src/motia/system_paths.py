"""The URL prefix under which the server keeps its own routes (workbench, internal API,
API docs, health, stream client), apart from the project's API steps."""

SYSTEM_PREFIX = "/__motia"
