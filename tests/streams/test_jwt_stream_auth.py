"""Stream clients that present the API's access tokens: `authenticate = jwt_stream_auth` in
motia_config.py, driven by the published npm client against a real `motia start` server.
The token's claims are the connection's auth context, so `canAccess` can use `sub`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest

from motia.auth import issue_access_token
from tests.conftest import ServerProcess, write_project
from tests.streams.conftest import STREAM_PROJECT, DriverFactory, set_call, stream_ops, ws_url

pytestmark = pytest.mark.slow

SECRET = "a-stream-secret-that-is-long-enough-0123456789"

PROJECT = {
    **STREAM_PROJECT,
    "motia_config.py": """
        from motia.auth import JwtStreamAuth

        authenticate = JwtStreamAuth(scopes=["inbox:read"])
    """,
    "steps/private_stream.py": """
        async def can_access(subscription, auth_context):
            return subscription["groupId"] == auth_context["sub"]

        config = {
            "name": "private",
            "baseConfig": {"storageType": "default"},
            "canAccess": can_access,
        }
    """,
}


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess], tmp_path: Path) -> ServerProcess:
    project = write_project(tmp_path / "project", PROJECT)
    return server_factory(project, env={"JWT_SECRET": SECRET})


def token_for(sub: str, scopes: list[str], ttl: float = 600) -> str:
    return issue_access_token(sub, scopes=scopes, ttl=ttl, secret=SECRET)


def test_subscription_with_an_access_token_sees_its_own_group(
    server: ServerProcess, driver_factory: DriverFactory
) -> None:
    driver = driver_factory(
        ws_url(server),
        [
            {"label": "mine", "stream": "private", "group": "alice"},
            {"label": "theirs", "stream": "private", "group": "bob"},
        ],
        token=token_for("alice", ["inbox:read"]),
    )
    assert driver.wait_state("mine", lambda s: True) == []
    assert driver.wait_event("theirs", "error")["code"] == "STREAM_ACCESS_DENIED"
    mark = driver.mark()
    stream_ops(server, set_call("private", "alice", "n1", {"text": "hi"}))
    assert driver.wait_state("mine", lambda s: len(s) == 1, after=mark) == [
        {"text": "hi", "id": "n1"}
    ]
    assert driver.of_kind("close") == []


@pytest.mark.parametrize(
    "token",
    [
        None,
        "forged",
        token_for("alice", ["inbox:read"], ttl=-120),
        token_for("alice", ["other"]),
        jwt.encode({"sub": "alice", "exp": int(time.time()) + 600}, "x" * 40, algorithm="HS256"),
    ],
    ids=["no-token", "malformed", "expired", "missing-scope", "other-secret"],
)
def test_refused_tokens_close_the_socket_with_4401(
    server: ServerProcess, driver_factory: DriverFactory, token: str | None
) -> None:
    driver = driver_factory(
        ws_url(server), [{"label": "g", "stream": "private", "group": "alice"}], token=token
    )
    closed = driver.wait_for(lambda o: o["kind"] == "close", what="socket close")
    assert closed["code"] == 4401
    assert driver.frames() == [] and driver.states("g") == []
    server.wait_for_output("stream client refused")


def test_event_source_takes_the_token_as_a_bearer_header(server: ServerProcess) -> None:
    url = f"{server.url}/__motia/streams/private/alice"
    assert httpx.get(url, timeout=5).status_code == 401
    expired = {"authorization": f"Bearer {token_for('alice', ['inbox:read'], ttl=-120)}"}
    assert httpx.get(url, headers=expired, timeout=5).status_code == 401
    good = {"authorization": f"Bearer {token_for('alice', ['inbox:read'])}"}
    with httpx.stream("GET", url, headers=good, timeout=5) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
