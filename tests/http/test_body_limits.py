"""Body limits: a step's `maxBodySize` replaces `http.maxBodySize` for its route (413 past
it), and JSON nested deeper than `http.maxJsonDepth` is refused with 400."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from motia.http.json_depth import too_deep
from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow


def api(name: str, path: str, extra: str = "") -> str:
    return f"""
        config = {{"type": "api", "name": "{name}", "method": "POST", "path": "{path}",
                  "emits": []{extra}}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {{"size": len(req["rawBody"])}}}}
    """


FILES = {
    "steps/plain_step.py": api("Plain", "/plain"),
    "steps/upload_step.py": api("Upload", "/upload", ', "maxBodySize": "10kb"'),
    "steps/tiny_step.py": api("Tiny", "/tiny", ', "maxBodySize": 100'),
    "config.yml": """
        http:
          maxBodySize: 1kb
          maxJsonDepth: 8
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "body-limits", FILES) as running:
        yield running


def post_text(server: ServerProcess, path: str, size: int) -> httpx.Response:
    return server.client.post(path, content="x" * size, headers={"content-type": "text/plain"})


def test_the_global_limit_applies_to_steps_without_their_own(server: ServerProcess) -> None:
    assert post_text(server, "/plain", 900).status_code == 200
    response = post_text(server, "/plain", 2000)
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["error"]


def test_a_step_may_accept_more(server: ServerProcess) -> None:
    response = post_text(server, "/upload", 5000)
    assert response.status_code == 200
    assert response.json() == {"size": 5000}
    refused = post_text(server, "/upload", 20_000)
    assert refused.status_code == 413
    assert "10000 bytes" in refused.json()["error"]
    assert refused.json()["traceId"] == refused.headers["x-trace-id"]


def test_a_step_limit_holds_for_chunked_bodies(server: ServerProcess) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b"x" * 1000

    response = server.client.post("/upload", content=chunks())
    assert response.status_code == 413


def test_a_step_may_accept_less(server: ServerProcess) -> None:
    response = post_text(server, "/tiny", 200)
    assert response.status_code == 413
    assert "100 bytes" in response.json()["error"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [9, 30, 2000])
def test_json_deeper_than_the_limit_is_refused(server: ServerProcess, depth: int) -> None:
    response = server.client.post(
        "/upload", content=nested(depth), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "nested too deeply" in error and "8 levels" in error


def test_json_at_the_limit_and_wide_json_pass(server: ServerProcess) -> None:
    at_limit = server.client.post(
        "/upload", content=nested(8), headers={"content-type": "application/json"}
    )
    assert at_limit.status_code == 200
    wide = json.dumps([{"a": [1]} for _ in range(300)])  # many brackets, depth 3
    assert (
        server.client.post(
            "/upload", content=wide, headers={"content-type": "application/json"}
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("value", "limit", "deep"),
    [
        ([], 1, False),
        ([[]], 1, True),
        ({"a": {"b": [1, 2, {"c": 3}]}}, 4, False),
        ({"a": {"b": [1, 2, {"c": {}}]}}, 4, True),
        ([[1]] * 50, 2, False),
        ("[[[", 1, False),  # a string, not containers
    ],
)
def test_too_deep(value: object, limit: int, deep: bool) -> None:
    assert too_deep(json.dumps(value).encode(), value, limit) is deep
