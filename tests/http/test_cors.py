"""CORS: open in `motia dev`, off by default in `motia start`, and limited to the origins in
config.yml when they are configured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow

STEP = """
    config = {"type": "api", "name": "Things", "method": "POST", "path": "/things", "emits": []}

    async def handler(req, ctx):
        return {"status": 201, "body": {"ok": True}}
"""
GET_STEP = """
    config = {"type": "api", "name": "ListThings", "method": "GET", "path": "/things", "emits": []}

    async def handler(req, ctx):
        return {"status": 200, "body": []}
"""
STEPS = {"steps/things_step.py": STEP, "steps/list_things_step.py": GET_STEP}
CONFIGURED = {
    **STEPS,
    "config.yml": """
        http:
          cors:
            origins: ["https://app.example"]
    """,
}
PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type, x-api-key",
}


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "cors-dev", STEPS, "dev") as running:
        yield running


@pytest.fixture(scope="module")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "cors-start", STEPS) as running:
        yield running


@pytest.fixture(scope="module")
def configured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "cors-configured", CONFIGURED) as running:
        yield running


def test_dev_allows_any_origin(dev_server: ServerProcess) -> None:
    response = dev_server.client.get("/things", headers={"Origin": "http://localhost:5173"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:5173")


def test_dev_error_responses_carry_cors_headers(dev_server: ServerProcess) -> None:
    response = dev_server.client.get("/missing", headers={"Origin": "http://localhost:5173"})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:5173")
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-trace-id" in exposed
    assert "traceparent" in exposed


def test_dev_answers_preflight(dev_server: ServerProcess) -> None:
    response = dev_server.client.options("/things", headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example")
    assert "POST" in response.headers["access-control-allow-methods"].upper()
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed_headers or allowed_headers == "*"


def test_dev_preflight_on_unknown_path_is_still_answered(dev_server: ServerProcess) -> None:
    response = dev_server.client.options("/not-a-route", headers=PREFLIGHT)
    assert response.status_code == 204


def test_dev_without_origin_sends_no_cors_headers(dev_server: ServerProcess) -> None:
    response = dev_server.client.get("/things")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_start_without_cors_config_sends_no_cors_headers(start_server: ServerProcess) -> None:
    response = start_server.client.get("/things", headers={"Origin": "https://app.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_start_without_cors_config_does_not_answer_preflight(start_server: ServerProcess) -> None:
    response = start_server.client.options("/things", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers


def test_configured_origin_is_echoed(configured_server: ServerProcess) -> None:
    response = configured_server.client.post(
        "/things", json={}, headers={"Origin": "https://app.example"}
    )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "origin" in response.headers.get("vary", "").lower()


def test_other_origin_is_not_echoed(configured_server: ServerProcess) -> None:
    response = configured_server.client.post(
        "/things", json={}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 201
    assert "access-control-allow-origin" not in response.headers


def test_configured_origin_preflight(configured_server: ServerProcess) -> None:
    response = configured_server.client.options("/things", headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in response.headers["access-control-allow-methods"].upper()


def test_other_origin_preflight_is_not_allowed(configured_server: ServerProcess) -> None:
    response = configured_server.client.options(
        "/things", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers
