"""Bad input gets a clear 4xx and nothing else: Schemathesis generates requests from the
OpenAPI document of the example project (valid ones, and ones that break every rule of its
schemas) against a real `motia start` with the protections on, and no answer may be a 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from motia.auth import issue_access_token
from tests.conftest import ServerProcess

Factory = Callable[..., ServerProcess]

pytestmark = pytest.mark.slow

SECRET = "fuzz-secret-" + "x" * 32
PROTECTED = {
    "JWT_SECRET": SECRET,
    "MOTIA_AUTH_REQUIRED": "true",
    "MOTIA_REQUEST_TIMEOUT": "10",
    "MOTIA_CORS_ORIGINS": "https://app.example.com",
    "MOTIA_COMPRESSION_MIN_SIZE": "16",
    "MOTIA_MAX_JSON_DEPTH": "16",
    "MOTIA_WORKBENCH_TOKEN": "w" * 24,
}


def schemathesis(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st),
            "run",
            f"{url}/__motia/openapi.json?token={'w' * 24}",
            "--url",
            url,
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "--workers",
            "1",
            "--seed",
            "1",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_no_request_schemathesis_makes_gets_a_5xx(
    example_copy: Path, server_factory: Factory
) -> None:
    server = server_factory(example_copy, "start", env=PROTECTED)
    token = issue_access_token("fuzzer", secret=SECRET)
    signed = schemathesis(server.url, "--header", f"Authorization: Bearer {token}")
    print(signed.stdout[-3000:])
    assert signed.returncode == 0, signed.stdout[-6000:] + signed.stderr[-2000:]
    assert "No issues found" in signed.stdout, signed.stdout[-3000:]
    # The signed requests reached the handlers: resources were created and processed.
    workbench = {"Authorization": "Bearer " + "w" * 24}
    found = server.client.get(
        "/__motia/api/traces", params={"step": "CreateResource", "status": "ok"}, headers=workbench
    )
    assert found.status_code == 200, found.text
    assert len(found.json()["items"]) >= 5, found.json()
    # Without a token every operation must be refused with 401, still never a 5xx.
    anonymous = schemathesis(server.url, "--phases", "examples,coverage")
    assert anonymous.returncode == 0, anonymous.stdout[-6000:]
    assert "Traceback" not in server.output(), server.output()[-4000:]
