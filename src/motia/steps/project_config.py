"""A classic project's `motia.config.ts` / `motia.config.js`: the Node runner reads it like a
step file; its `streamAuth` authenticates stream clients, and what has no equivalent here is
named once, with the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from motia.errors import Problem
from motia.runners.protocol import FileReport
from motia.runners.remote import RemoteStreamAuth

CONFIG_NAMES = tuple(
    f"motia.config.{extension}" for extension in ("ts", "mts", "cts", "js", "mjs", "cjs")
)
# Keys of the classic project config and why they have no effect here.
UNSUPPORTED = {
    "plugins": "workbench plugins do not exist here; the workbench has states, logs, traces "
    "and endpoints built in",
    "adapters": "choose the state, queue and streams stores in config.yml (`state.adapter`, "
    "`queue.adapter`, `streams.adapter`: sqlite, memory or redis)",
    "app": "the HTTP server is not Express; write the route as an API step, or as "
    "middleware in the step's `middleware`",
    "redis": "set `redis.url` in config.yml or MOTIA_REDIS_URL",
}


def find_project_config(project_dir: Path) -> Path | None:
    for name in CONFIG_NAMES:
        path = project_dir / name
        if path.is_file():
            return path
    return None


def apply_project_config(
    rel: Path, path: Path, report: FileReport, problems: Callable[[Problem], None]
) -> RemoteStreamAuth | None:
    """Checks what the runner read; returns the stream authenticator when there is one."""
    config: dict[str, Any] = report.config or {}
    keys = [str(key) for key in config.get("keys") or []]
    authenticator: RemoteStreamAuth | None = None
    stream_auth = config.get("streamAuth")
    if "streamAuth" in keys:
        if isinstance(stream_auth, dict) and stream_auth.get("authenticate"):
            authenticator = RemoteStreamAuth("node", str(path))
        else:
            problems(
                Problem(
                    "`streamAuth` needs an `authenticate` function",
                    file=rel,
                    field="streamAuth.authenticate",
                    hint="streamAuth: { contextSchema, authenticate: async (req) => context "
                    "or null }",
                )
            )
    ignored = [key for key in keys if key != "streamAuth"]
    redis = config.get("redis")
    if isinstance(redis, dict) and redis.get("useMemoryServer") and "redis" in ignored:
        # The embedded memory server of classic is what the embedded store is here.
        ignored.remove("redis")
    if ignored:
        problems(
            Problem(
                "these keys have no effect here: " + ", ".join(ignored),
                file=rel,
                hint="; ".join(
                    f"{key}: {UNSUPPORTED.get(key, 'not a setting of this Motia')}"
                    for key in ignored
                ),
                severity="warning",
            )
        )
    return authenticator
