"""`motia --version`, `motia --help` and the failure modes of `motia emit`."""

from __future__ import annotations

import re

from motia import __version__
from tests.cli._support import run_motia
from tests.conftest import free_port


def test_version_prints_the_package_version() -> None:
    result = run_motia("--version")
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout
    assert re.search(r"\d+\.\d+\.\d+", result.stdout)


def test_help_lists_dev_start_and_emit() -> None:
    result = run_motia("--help")
    assert result.returncode == 0, result.stderr
    commands = {
        match.group(1)
        for match in re.finditer(r"^\s{2}(\w[\w-]*)\s", result.stdout, flags=re.MULTILINE)
    }
    assert {"dev", "start", "emit"} <= commands, result.stdout


def test_emit_rejects_invalid_json_message() -> None:
    port = free_port()
    result = run_motia("emit", "--topic", "t", "--message", "{not json", "--port", str(port))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "--message" in output
    assert "JSON" in output
    assert "Traceback" not in output


def test_emit_without_a_server_names_host_and_port() -> None:
    port = free_port()  # nothing listens on it
    result = run_motia("emit", "--topic", "t", "--message", '{"a": 1}', "--port", str(port))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"127.0.0.1:{port}" in output
    assert "Traceback" not in output
