"""Bad HTTP hardening options stop `motia start` with an error naming the file, the step and
the field (or the setting)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._support import run_motia
from tests.conftest import free_port, write_project

pytestmark = pytest.mark.slow


def api(name: str, extra: str) -> str:
    return f"""
        config = {{"type": "api", "name": "{name}", "method": "GET", "path": "/{name.lower()}",
                  "emits": []{extra}}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {{}}}}
    """


BROKEN = {
    "steps/zero_timeout_step.py": api("ZeroTimeout", ', "timeout": 0'),
    "steps/any_with_credentials_step.py": api(
        "AnyWithCredentials", ', "cors": {"origins": ["*"], "credentials": True}'
    ),
    "steps/bad_pattern_step.py": api("BadPattern", ', "cors": {"origins": ["https://app.*.com"]}'),
    "steps/cors_typo_step.py": api("CorsTypo", ', "cors": {"origins": [], "maxage": 5}'),
    "steps/bad_header_step.py": api(
        "BadHeader", ', "securityHeaders": {"X-Frame-Options": "DENY\\r\\nX-Evil: 1"}'
    ),
    "steps/bad_size_step.py": api("BadSize", ', "maxBodySize": "lots"'),
    "steps/zero_size_step.py": api("ZeroSize", ', "maxBodySize": 0'),
    "steps/true_header_step.py": api(
        "TrueHeader", ', "securityHeaders": {"X-Frame-Options": True}'
    ),
}


def start(project: Path) -> str:
    result = run_motia("start", "--dir", str(project), "--port", str(free_port()), cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ready:" not in result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> str:
    return start(write_project(tmp_path_factory.mktemp("broken-http"), BROKEN))


def line_of(output: str, file: str) -> str:
    lines = [line for line in output.splitlines() if file in line]
    assert lines, output
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("file", "step", "words"),
    [
        ("zero_timeout_step.py", "ZeroTimeout", ["timeout", "greater than 0"]),
        ("any_with_credentials_step.py", "AnyWithCredentials", ["cors", "'*'", "credentials"]),
        ("bad_pattern_step.py", "BadPattern", ["cors", "origins", "https://app.*.com"]),
        ("cors_typo_step.py", "CorsTypo", ["cors", "maxage"]),
        ("bad_header_step.py", "BadHeader", ["securityHeaders", "control character"]),
        ("true_header_step.py", "TrueHeader", ["securityHeaders", "X-Frame-Options"]),
        ("bad_size_step.py", "BadSize", ["maxBodySize", "'lots'", "not a size"]),
        ("zero_size_step.py", "ZeroSize", ["maxBodySize", "not a positive size"]),
    ],
)
def test_bad_step_option_is_named(broken: str, file: str, step: str, words: list[str]) -> None:
    line = line_of(broken, file)
    assert f"'{step}'" in line, line
    for word in words:
        assert word in line, (word, line)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (
            'http:\n  cors:\n    origins: ["*"]\n    credentials: true\n',
            ["http.cors.origins", "http.cors.credentials", "'*'"],
        ),
        ('http:\n  cors:\n    origins: ["https://*"]\n', ["http.cors.origins", "wildcard"]),
        (
            "http:\n  securityHeaders:\n    headers:\n      Bad Name: x\n",
            ["http.securityHeaders.headers", "not a valid header name"],
        ),
        ("http:\n  requestTimeout: -1\n", ["http.requestTimeout"]),
        ("http:\n  maxJsonDepth: 0\n", ["http.maxJsonDepth"]),
    ],
)
def test_bad_setting_is_named(tmp_path: Path, config: str, words: list[str]) -> None:
    project = write_project(tmp_path, {"steps/ok_step.py": api("Ok", ""), "config.yml": config})
    output = start(project)
    for word in words:
        assert word in output, (word, output)


def test_credentials_in_dev_need_listed_origins(tmp_path: Path) -> None:
    """`motia dev` allows any origin by default: with credentials, origins must be listed."""
    project = write_project(
        tmp_path,
        {
            "steps/ok_step.py": api("Ok", ""),
            "config.yml": "http:\n  cors:\n    credentials: true\n",
        },
    )
    result = run_motia("dev", "--dir", str(project), "--port", str(free_port()), cwd=project)
    assert result.returncode != 0
    assert "http.cors.credentials" in result.stdout + result.stderr
