"""What a classic `motia.config.ts` decides before the settings are made: the Node runner
reads it, so this sits above the steps layer that checks it."""

from __future__ import annotations

from pathlib import Path

from motia.runners.describe import describe_files
from motia.runners.languages import NODE
from motia.runners.process import RunnerFailed
from motia.steps.project_config import find_project_config, redis_url_of


def classic_redis_url(project_dir: Path) -> str | None:
    """The Redis that the project's motia.config names, read before the settings are made;
    None without one (or when the file cannot be read: loading the project reports that)."""
    path = find_project_config(project_dir)
    if path is None or "redis" not in path.read_text(encoding="utf-8", errors="replace"):
        return None  # no Node process for the many configs without a `redis` key
    binary = NODE.binary_path()
    if binary is None:
        return None
    try:
        [report] = describe_files(NODE, binary, project_dir, [path])
    except (RunnerFailed, ValueError):
        return None
    return redis_url_of((report.config or {}).get("redis")) if report.error is None else None
