"""Rate limits shared through Redis: two `motia start` processes (or `--workers 2`) allow N
requests in all, not N each; `ctx.rate_limit` counts the same way; a Redis outage lets
requests through (or refuses them with 503 when limits fail closed), is logged once, and
the limits hold again once Redis is back."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.redis.conftest import OwnRedis

pytestmark = pytest.mark.slow

Servers = Callable[..., ServerProcess]

PROJECT = {
    "steps/orders_step.py": """
        config = {"type": "api", "name": "CreateOrder", "method": "POST", "path": "/orders",
                  "rateLimit": {"requests": 10, "per": "1h"}}

        async def handler(req, ctx):
            return {"status": 201, "body": {"ok": True}}
    """,
    "steps/partner_step.py": """
        config = {"type": "api", "name": "Partner", "method": "GET", "path": "/partner"}

        async def handler(req, ctx):
            allowed, retry_after = await ctx.rate_limit("partner", requests=3, per="1h")
            return {"status": 200, "body": {"allowed": allowed, "retryAfter": retry_after}}
    """,
}


def _spread(targets: list[ServerProcess], path: str, count: int, method: str = "POST") -> list[int]:
    """`count` requests sent at once, round-robin over the processes."""

    def send(server: ServerProcess) -> int:
        return server.client.request(method, path, json={}).status_code

    with ThreadPoolExecutor(8) as pool:
        chosen = itertools.islice(itertools.cycle(targets), count)
        return list(pool.map(send, chosen))


def test_two_processes_share_one_count(
    tmp_path: Path, servers: Servers, redis_env: dict[str, str]
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    first = servers(project, env=redis_env)
    second = servers(project, env=redis_env)
    statuses = _spread([first, second], "/orders", 30)
    assert statuses.count(201) == 10, statuses
    assert statuses.count(429) == 20, statuses

    with ThreadPoolExecutor(4) as pool:
        chosen = itertools.islice(itertools.cycle([first, second]), 8)
        answers = list(pool.map(lambda s: s.client.get("/partner").json(), chosen))
    assert [a["allowed"] for a in answers].count(True) == 3, answers
    assert all(1199 <= a["retryAfter"] <= 1200 for a in answers if not a["allowed"]), answers


def test_workers_of_one_server_share_one_count(
    tmp_path: Path, servers: Servers, redis_env: dict[str, str]
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    server = servers(project, "--workers", "2", env=redis_env)
    statuses = _spread([server], "/orders", 25)
    assert statuses.count(201) == 10, statuses
    assert statuses.count(429) == 15, statuses


def _own(redis_server: OwnRedis, **extra: str) -> dict[str, str]:
    return {"MOTIA_REDIS_URL": redis_server.url, "MOTIA_REDIS_PREFIX": "limits", **extra}


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_a_redis_outage_is_logged_once_and_limits_resume_after_it(
    tmp_path: Path, servers: Servers, own_redis: OwnRedis, policy: str
) -> None:
    project = write_project(tmp_path / "shop", PROJECT)
    env = _own(own_redis, MOTIA_RATE_LIMIT_ON_STORE_FAILURE=policy)
    server = servers(project, env=env)
    statuses = [server.client.post("/orders", json={}).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]

    own_redis.stop()
    during = [server.client.post("/orders", json={}) for _ in range(5)]
    if policy == "open":
        assert [a.status_code for a in during] == [201] * 5, [a.text for a in during]
        assert "ratelimit-limit" not in during[0].headers
    else:
        assert [a.status_code for a in during] == [503] * 5, [a.text for a in during]
        body = during[0].json()
        assert body["error"] == "Service unavailable: rate limits cannot be checked now"
        assert body["traceId"] and during[0].headers["retry-after"] == "5"
    output = server.output()
    assert output.count("rate limits unavailable") == 1, output
    what = "rate limits are not enforced" if policy == "open" else "get 503"
    assert what in output, output

    own_redis.start()  # its data survives (append-only file): the client is still over
    answer = wait_for(
        lambda: (r := server.client.post("/orders", json={})).status_code == 429 and r,
        15,
        what="429 again once Redis is back",
    )
    assert int(answer.headers["retry-after"]) > 0
    server.wait_for_output("rate limits available again")
    assert server.output().count("rate limits unavailable") == 1
