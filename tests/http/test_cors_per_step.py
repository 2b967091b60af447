"""CORS per step: a step's `cors` replaces `http.cors.*` for its route, preflights included;
`cors: False` turns CORS off for one route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess
from tests.http.support import module_server

pytestmark = pytest.mark.slow


def api(name: str, method: str, path: str, extra: str = "") -> str:
    return f"""
        config = {{"type": "api", "name": "{name}", "method": "{method}", "path": "{path}",
                  "emits": []{extra}}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {{"ok": True}}}}
    """


PARTNER = (
    ', "cors": {"origins": ["https://*.partner.example", "https://partner-admin.example"], '
    '"credentials": True, "methods": ["POST"], "headers": ["content-type"], '
    '"exposeHeaders": ["x-partner"], "maxAge": 60}'
)
STEPS = {
    "steps/things_step.py": api("Things", "GET", "/things"),
    "steps/partner_step.py": api("Partner", "POST", "/partner", PARTNER),
    "steps/private_step.py": api("Private", "GET", "/private", ', "cors": False'),
}
FILES = {
    **STEPS,
    "config.yml": """
        http:
          cors:
            origins: ["https://app.example"]
            exposeHeaders: ["x-request-id"]
    """,
}
APP = "https://app.example"
PARTNER_ORIGIN = "https://eu.api.partner.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "cors-steps", FILES) as running:
        yield running


@pytest.fixture(scope="module")
def steps_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """No `http.cors` in config.yml: only the step's own policy allows anything."""
    with module_server(tmp_path_factory, "cors-steps-only", STEPS) as running:
        yield running


def preflight(
    server: ServerProcess, path: str, origin: str, method: str = "POST"
) -> dict[str, str]:
    response = server.client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, x-api-key",
        },
    )
    return dict(response.headers)


def test_global_policy_exposes_configured_headers(server: ServerProcess) -> None:
    response = server.client.get("/things", headers={"Origin": APP})
    assert response.headers["access-control-allow-origin"] == APP
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-trace-id" in exposed and "x-request-id" in exposed


def test_step_policy_allows_its_own_origins_with_credentials(server: ServerProcess) -> None:
    for origin in (PARTNER_ORIGIN, "https://partner-admin.example"):
        response = server.client.post("/partner", headers={"Origin": origin})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "x-partner" in response.headers["access-control-expose-headers"]


@pytest.mark.parametrize(
    "origin",
    [
        APP,  # allowed by the settings, not by the step
        "https://partner.example",  # the wildcard needs a label before the domain
        "https://eu.partner.example.evil.example",
        "http://eu.partner.example",
    ],
)
def test_step_policy_refuses_other_origins(server: ServerProcess, origin: str) -> None:
    response = server.client.post("/partner", headers={"Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight(server, "/partner", origin)


def test_preflight_uses_the_step_policy(server: ServerProcess) -> None:
    headers = preflight(server, "/partner", PARTNER_ORIGIN)
    assert headers["access-control-allow-origin"] == PARTNER_ORIGIN
    assert headers["access-control-allow-methods"] == "POST"
    assert headers["access-control-allow-headers"] == "content-type"
    assert headers["access-control-max-age"] == "60"
    assert headers["access-control-allow-credentials"] == "true"


def test_preflight_for_another_method_uses_the_global_policy(server: ServerProcess) -> None:
    # No step answers GET /partner: the settings' policy applies.
    assert "access-control-allow-origin" not in preflight(server, "/partner", PARTNER_ORIGIN, "GET")
    headers = preflight(server, "/partner", APP, "GET")
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-max-age"] == "600"


def test_cors_false_turns_it_off_for_one_route(server: ServerProcess) -> None:
    response = server.client.get("/private", headers={"Origin": APP})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight(server, "/private", APP, "GET")


def test_a_step_policy_works_without_global_origins(steps_only: ServerProcess) -> None:
    response = steps_only.client.post("/partner", headers={"Origin": PARTNER_ORIGIN})
    assert response.headers["access-control-allow-origin"] == PARTNER_ORIGIN
    other = steps_only.client.get("/things", headers={"Origin": APP})
    assert "access-control-allow-origin" not in other.headers
