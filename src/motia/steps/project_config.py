"""A classic project's `motia.config.ts` / `motia.config.js`: the Node runner reads it like a
step file (see `motia.runtime.runner_files`); its `streamAuth` authenticates stream clients,
its `redis` names the Redis to use, and what has no equivalent here is named once, with the
file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from motia.errors import Problem
from motia.steps.languages import RUNNER_LANGUAGES, TYPESCRIPT

# The file names it may have, TypeScript first, as the Node runner's languages allow.
CONFIG_NAMES = tuple(
    f"motia.config{suffix}"
    for language in RUNNER_LANGUAGES
    if language.runner == TYPESCRIPT.runner
    for suffix in language.step_suffixes
)
# Keys of the classic project config and why they have no effect here.
UNSUPPORTED = {
    "plugins": "workbench plugins do not exist here; the workbench has states, logs, traces "
    "and endpoints built in",
    "adapters": "choose the state, queue and streams stores in config.yml (`state.adapter`, "
    "`queue.adapter`, `streams.adapter`: sqlite, memory or redis)",
    "app": "the HTTP server is not Express; write the route as an API step, or as "
    "middleware in the step's `middleware`",
}
REDIS_APPLIED = (
    "applied when neither config.yml (`redis`) nor MOTIA_REDIS_URL / REDIS_URL names a Redis"
)


def find_project_config(project_dir: Path) -> Path | None:
    for name in CONFIG_NAMES:
        path = project_dir / name
        if path.is_file():
            return path
    return None


def check_project_config(
    rel: Path, config: dict[str, Any], problems: Callable[[Problem], None]
) -> bool:
    """Checks what the runner read; whether its `streamAuth` has an `authenticate`."""
    keys = [str(key) for key in config.get("keys") or []]
    authenticates = False
    stream_auth = config.get("streamAuth")
    if "streamAuth" in keys:
        if isinstance(stream_auth, dict) and stream_auth.get("authenticate"):
            authenticates = True
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
    ignored = [key for key in keys if key not in ("streamAuth", "redis")]
    redis = config.get("redis")
    url = redis_url_of(redis)
    if url is not None:
        problems(
            Problem(
                f"`redis` names the Redis at {re.sub(r'//[^@/]*@', '//', url)}",
                file=rel,
                field="redis",
                hint=REDIS_APPLIED,
                severity="info",
            )
        )
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
    return authenticates


def redis_url_of(redis: object) -> str | None:
    """The Redis URL of a classic `redis: {useMemoryServer, host, port, username, password,
    db}`; None for the embedded memory server, which is what the embedded store is here."""
    if not isinstance(redis, dict) or redis.get("useMemoryServer") or not redis.get("host"):
        return None
    auth = ""
    if redis.get("password"):
        auth = f"{quote(str(redis.get('username') or ''))}:{quote(str(redis['password']))}@"
    port = redis.get("port") or 6379
    return f"redis://{auth}{redis['host']}:{port}/{redis.get('db') or 0}"
