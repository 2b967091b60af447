"""Helpers shared by the resource steps (imported relatively and absolutely)."""

from typing import Any


def summarise(resource: dict[str, Any]) -> str:
    return f"{resource.get('name', '?')} ({resource.get('kind', 'generic')})"
