"""config.yml: `port`, errors that name the file and line, and its precedence against the
MOTIA_PORT environment variable and the `--port` flag."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from tests.cli._support import api_step, run_motia, spawn_server
from tests.conftest import free_port, write_project

NO_ENV_PORT = {"MOTIA_PORT": ""}


def project_with_config(root: Path, config: str) -> Path:
    return write_project(
        root, {"config.yml": config, "steps/ping_step.py": api_step("Ping", "GET", "/ping")}
    )


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def serves_ping(project: Path, port: int, *args: str, env: dict[str, str], log_dir: Path) -> None:
    server = spawn_server(project, port, *args, env=env, log_dir=log_dir)
    try:
        response = server.client.get("/ping")
        assert response.status_code == 200
        assert response.json() == {"ok": True}
    finally:
        server.stop(signal.SIGKILL)


def test_port_from_config_file_is_used_without_flag(tmp_path: Path) -> None:
    port = free_port()
    project = project_with_config(tmp_path / "project", f"port: {port}\n")
    serves_ping(project, port, env=NO_ENV_PORT, log_dir=tmp_path)


def test_motia_port_env_overrides_config_file(tmp_path: Path) -> None:
    file_port, env_port = free_port(), free_port()
    project = project_with_config(tmp_path / "project", f"port: {file_port}\n")
    server = spawn_server(project, env_port, env={"MOTIA_PORT": str(env_port)}, log_dir=tmp_path)
    try:
        assert server.client.get("/ping").status_code == 200
        assert not listening(file_port)
    finally:
        server.stop(signal.SIGKILL)


def test_port_flag_overrides_env_and_config_file(tmp_path: Path) -> None:
    file_port, env_port, flag_port = free_port(), free_port(), free_port()
    project = project_with_config(tmp_path / "project", f"port: {file_port}\n")
    server = spawn_server(
        project,
        flag_port,
        "--port",
        str(flag_port),
        env={"MOTIA_PORT": str(env_port)},
        log_dir=tmp_path,
    )
    try:
        assert server.client.get("/ping").status_code == 200
        assert not listening(env_port)
        assert not listening(file_port)
    finally:
        server.stop(signal.SIGKILL)


@pytest.mark.parametrize(
    ("config", "line", "key"),
    [
        ("port: 3000\nhost: 127.0.0.1\ncolour: red\n", 3, "colour"),
        ("port: 3000\nstate:\n  adapter: sqlite\n  adaptor: memory\n", 4, "adaptor"),
    ],
    ids=["top-level", "nested"],
)
def test_unknown_config_key_names_file_and_line(
    tmp_path: Path, config: str, line: int, key: str
) -> None:
    project = project_with_config(tmp_path / "project", config)
    result = run_motia("start", "--dir", str(project), cwd=project, env=NO_ENV_PORT)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"config.yml:{line}" in output
    assert key in output
    assert "Traceback" not in output
    assert "ready" not in output


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    project = project_with_config(tmp_path / "project", "port: 3000\n  host: [oops\n")
    result = run_motia("dev", "--dir", str(project), cwd=project, env=NO_ENV_PORT)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "config.yml:2" in output
    assert "YAML" in output
    assert "Traceback" not in output
