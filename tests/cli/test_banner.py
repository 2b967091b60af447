"""The lines `motia dev` and `motia start` print once they serve: where to open the app,
the workbench (when it is on) and the API docs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from motia.runtime.runtime import base_url
from tests.conftest import ServerProcess, write_project

pytestmark = pytest.mark.slow

PROJECT = {
    "steps/ping_step.py": """
        config = {"type": "api", "name": "Ping", "method": "GET", "path": "/ping", "emits": []}

        async def handler(req, ctx):
            return {"status": 200, "body": {"pong": True}}
    """
}


def test_dev_prints_the_app_the_workbench_and_the_api_docs(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    server = server_factory(write_project(tmp_path / "app", PROJECT), "dev")
    url = f"http://127.0.0.1:{server.port}"
    output = server.wait_for_output("API docs:")
    assert f"ready: 1 step(s) on {url}" in output
    assert f"workbench: {url}/__motia/\n" in output
    assert f"API docs: {url}/__motia/docs\n" in output
    # Each address answers.
    assert server.client.get("/__motia/").status_code == 200
    assert server.client.get("/__motia/docs").status_code == 200


def test_start_without_a_token_names_no_workbench(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    server = server_factory(write_project(tmp_path / "app", PROJECT), "start")
    output = server.wait_for_output("API docs:")
    assert "workbench:" not in output
    assert server.client.get("/__motia/").status_code == 404
    # `motia start` binds every interface; the address to open is localhost's.
    assert f"API docs: http://localhost:{server.port}/__motia/docs" in output


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:3000"),
        ("0.0.0.0", "http://localhost:3000"),
        ("::", "http://localhost:3000"),
        ("::1", "http://[::1]:3000"),
        ("api.internal", "http://api.internal:3000"),
    ],
)
def test_the_printed_address_is_one_a_browser_opens(host: str, expected: str) -> None:
    assert base_url(host, 3000) == expected
