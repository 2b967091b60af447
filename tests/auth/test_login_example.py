"""The login, refresh and logout steps of docs/security.md, as written there, in a real
`motia start` server: the access token opens a protected step, a refresh token works once,
and logout revokes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.auth.support import bearer
from tests.conftest import REPO, ServerProcess, write_project

pytestmark = pytest.mark.slow

SECRET = "an-example-secret-that-is-long-enough-0123456789"
BLOCK = re.compile(r"```python\n(# (steps/auth/\w+\.py)\n.*?)```", re.DOTALL)

TEST_STEPS = {
    # Creates a user the way the docs say to store one.
    "steps/signup_step.py": """
        from motia.auth import hash_password

        config = {"type": "api", "name": "Signup", "method": "POST", "path": "/test/users",
                  "auth": False, "emits": []}

        async def handler(req, ctx):
            user = {"id": "u-1", "scopes": ["orders:read"],
                    "passwordHash": hash_password(req["body"]["password"])}
            await ctx.state.set("users", req["body"]["email"], user)
            await ctx.state.set("users-by-id", user["id"], user)
            return {"status": 201, "body": {"id": user["id"]}}
    """,
    "steps/orders_step.py": """
        config = {"type": "api", "name": "Orders", "method": "GET", "path": "/orders",
                  "auth": {"scopes": ["orders:read"]}, "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"for": req["auth"]["sub"]}}
    """,
}


def documented_steps() -> dict[str, str]:
    text = (REPO / "docs" / "security.md").read_text()
    steps = {path: source for source, path in BLOCK.findall(text)}
    assert set(steps) == {
        "steps/auth/login_step.py",
        "steps/auth/refresh_step.py",
        "steps/auth/logout_step.py",
    }
    return steps


def test_login_refresh_logout_as_documented(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", {**documented_steps(), **TEST_STEPS})
    server = server_factory(project, env={"JWT_SECRET": SECRET})
    client = server.client
    assert client.post("/test/users", json={"email": "a@x", "password": "pw-1"}).status_code == 201

    wrong = client.post("/auth/login", json={"email": "a@x", "password": "nope"})
    assert wrong.status_code == 401
    unknown = client.post("/auth/login", json={"email": "b@x", "password": "pw-1"})
    assert unknown.status_code == 401

    login = client.post("/auth/login", json={"email": "a@x", "password": "pw-1"})
    assert login.status_code == 200, login.text
    tokens = login.json()
    assert client.get("/orders", headers=bearer(tokens["accessToken"])).json() == {"for": "u-1"}
    # A refresh token is no access token.
    assert client.get("/orders", headers=bearer(tokens["refreshToken"])).status_code == 401

    refreshed = client.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert client.get("/orders", headers=bearer(fresh["accessToken"])).status_code == 200
    # The old refresh token was used once: it does not work again.
    again = client.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert again.status_code == 401 and again.json() == {"error": "refresh token revoked"}

    logout = client.post(
        "/auth/logout",
        json={"refreshToken": fresh["refreshToken"]},
        headers=bearer(fresh["accessToken"]),
    )
    assert logout.status_code == 204
    after = client.post("/auth/refresh", json={"refreshToken": fresh["refreshToken"]})
    assert after.status_code == 401
