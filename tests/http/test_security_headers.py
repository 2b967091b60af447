"""Security headers: on in `motia start`, off in `motia dev`, changed or removed by
config.yml or by a step, and never in place of a header the handler set itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from motia.http import security_headers
from motia.http.security_headers import SecurityHeaders
from tests.conftest import ServerProcess, write_project
from tests.http.support import module_server

pytestmark = pytest.mark.slow


def api(name: str, path: str, extra: str = "", headers: str = "{}") -> str:
    return f"""
        config = {{"type": "api", "name": "{name}", "method": "GET", "path": "{path}",
                  "emits": []{extra}}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {{"ok": True}}, "headers": {headers}}}
    """


FILES = {
    "steps/plain_step.py": api("Plain", "/plain"),
    "steps/own_step.py": api("Own", "/own", headers='{"X-Frame-Options": "SAMEORIGIN"}'),
    "steps/off_step.py": api("Off", "/off", ', "securityHeaders": False'),
    "steps/changed_step.py": api(
        "Changed",
        "/changed",
        ', "securityHeaders": {"Referrer-Policy": "same-origin", "X-Frame-Options": False}',
    ),
    "steps/on_step.py": api("On", "/on", ', "securityHeaders": True'),
    "config.yml": """
        http:
          securityHeaders:
            headers:
              Cross-Origin-Resource-Policy: cross-origin
              Permissions-Policy: camera=()
    """,
}
DEFAULTS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "cross-origin-opener-policy": "same-origin",
    # changed in config.yml, and one added there
    "cross-origin-resource-policy": "cross-origin",
    "permissions-policy": "camera=()",
}


@pytest.fixture(scope="module")
def start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "security-start", FILES) as running:
        yield running


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "security-dev", FILES, "dev") as running:
        yield running


def test_start_sends_them_on_api_answers(start: ServerProcess) -> None:
    response = start.client.get("/plain")
    assert response.status_code == 200
    assert {name: response.headers.get(name) for name in DEFAULTS} == DEFAULTS
    # Plain HTTP: browsers ignore HSTS there, so it is not sent.
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/missing", 404), ("POST", "/plain", 405)]
)
def test_start_sends_them_on_motias_own_answers(
    start: ServerProcess, method: str, path: str, status: int
) -> None:
    response = start.client.request(method, path)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_a_header_the_handler_sets_wins(start: ServerProcess) -> None:
    response = start.client.get("/own")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["referrer-policy"] == "no-referrer"


def test_a_step_turns_them_off(start: ServerProcess) -> None:
    response = start.client.get("/off")
    assert response.status_code == 200
    assert not set(DEFAULTS) & set(response.headers)


def test_a_step_changes_and_removes_some(start: ServerProcess) -> None:
    response = start.client.get("/changed")
    assert response.headers["referrer-policy"] == "same-origin"
    assert "x-frame-options" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"


def test_dev_sends_none_by_default(dev: ServerProcess) -> None:
    response = dev.client.get("/plain")
    assert response.status_code == 200
    assert not set(DEFAULTS) & set(response.headers)
    assert "x-content-type-options" not in dev.client.get("/missing").headers


def test_a_step_turns_them_on_in_dev(dev: ServerProcess) -> None:
    response = dev.client.get("/on")
    assert {name: response.headers.get(name) for name in DEFAULTS} == DEFAULTS


def test_hsts_is_sent_over_https_only() -> None:
    headers = SecurityHeaders.build(())
    assert headers is not None
    plain = dict(headers.for_answer({"scheme": "http"}, []))
    secure = dict(headers.for_answer({"scheme": "https"}, []))
    assert b"strict-transport-security" not in plain
    assert secure[b"strict-transport-security"] == b"max-age=31536000"
    changed = SecurityHeaders.build((("Strict-Transport-Security", "max-age=60"),))
    assert changed is not None
    assert dict(changed.for_answer({"scheme": "https"}, []))[b"strict-transport-security"] == (
        b"max-age=60"
    )
    removed = SecurityHeaders.build((("strict-transport-security", None),))
    assert removed is not None
    assert b"strict-transport-security" not in dict(removed.for_answer({"scheme": "https"}, []))


def test_removing_every_header_leaves_none() -> None:
    every = [(name, None) for name, _ in (*security_headers.DEFAULTS, (security_headers.HSTS, ""))]
    assert SecurityHeaders.build(every) is None


def test_hsts_follows_https_at_a_trusted_proxy_only(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    """Behind a TLS-terminating proxy the request arrives over plain HTTP: HSTS is sent when
    a trusted proxy says the client used HTTPS, never because a client says so itself."""
    project = write_project(tmp_path / "app", {"steps/plain_step.py": api("Plain", "/plain")})
    https = {"X-Forwarded-Proto": "https"}
    untrusted = server_factory(project, "start")
    assert "strict-transport-security" not in untrusted.client.get("/plain", headers=https).headers
    trusted = server_factory(project, "start", env={"MOTIA_TRUSTED_PROXIES": "127.0.0.1"})
    behind = trusted.client.get("/plain", headers=https)
    assert behind.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in trusted.client.get("/plain").headers
