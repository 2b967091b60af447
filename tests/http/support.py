"""Helpers shared by the HTTP tests: one real server per test module, and JSON log lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conftest import ServerProcess, start_server, write_project


@contextmanager
def module_server(
    factory: pytest.TempPathFactory,
    name: str,
    files: dict[str, str],
    mode: str = "start",
    *args: str,
) -> Iterator[ServerProcess]:
    """Write `files` into a fresh project, serve it, and stop the server afterwards."""
    root = factory.mktemp(name)
    project = write_project(root / "project", files)
    server = start_server(project, mode, *args, log_dir=root)
    try:
        yield server
    finally:
        server.stop()


def log_records(server: ServerProcess) -> list[dict[str, Any]]:
    """Every JSON object line the server printed (`motia start` logs one per line)."""
    records: list[dict[str, Any]] = []
    for line in server.output().splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def records_for(server: ServerProcess, trace_id: str) -> list[dict[str, Any]]:
    """The log records carrying `trace_id`."""
    return [r for r in log_records(server) if r.get("traceId") == trace_id]


def allowed_methods(header: str) -> set[str]:
    """`'GET, POST'` as `{'GET', 'POST'}`."""
    return {part.strip().upper() for part in header.split(",") if part.strip()}
