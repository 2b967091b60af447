"""Helpers of the handler tests: the server's JSON log and its dead letters."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ServerProcess

TOKEN = "hostile-handlers-token"
CONFIG = f"workbench:\n  token: {TOKEN}\n"


def records(server: ServerProcess) -> list[dict[str, Any]]:
    """The JSON log records the server printed so far (`motia start` logs JSON)."""
    found = []
    for line in server.output().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def dead_letters(server: ServerProcess) -> list[dict[str, Any]]:
    answer = server.client.get("/__motia/api/dlq", headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items
