"""Running a corpus project: a copy in tmp_path, a real `motia dev|start` process, and the
workbench API to read what the server loaded, its state, its streams and its cron jobs."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.conftest import ServerProcess, wait_for

CORPUS = Path(__file__).resolve().parent / "corpus"
TOKEN = "corpus-workbench-token-0123456789"
AUTH = {"authorization": f"Bearer {TOKEN}"}
ENV = {"MOTIA_WORKBENCH_TOKEN": TOKEN}

# A line that reports an error, in dev's readable logs, start's pre-flight lines or JSON logs.
ERROR_LINE = re.compile(r'^\d\d:\d\d:\d\d ERROR |^error: |"level":\s*"error"', re.MULTILINE)
# How a loader failure can leak out instead of naming the file.
IMPORT_INTERNALS = ("<frozen importlib", "Traceback (most recent call last)")
# Lines about npm packages: the classic `motia`/`@motiadev/*` packages may be missing.
NPM_LINE = re.compile(r"node_modules|npm (ci|install)|@motiadev|not installed", re.IGNORECASE)


def copy_project(name: str, tmp_path: Path) -> Path:
    """A fresh copy of corpus project `name`: servers never write into the repository."""
    target = tmp_path / name
    shutil.copytree(
        CORPUS / name,
        target,
        ignore=shutil.ignore_patterns(
            ".motia", "__pycache__", "node_modules", ".data", "logs", "motia-workbench.json"
        ),
    )
    return target


def link_node_modules(project: Path, modules: Path) -> Path:
    """Give `project` the packages installed once in `modules` (a node_modules folder)."""
    (project / "node_modules").symlink_to(modules, target_is_directory=True)
    return project


def set_module_type(project: Path, module_type: str | None) -> Path:
    """Rewrite package.json's `"type"`: "module", "commonjs" or None (the field removed)."""
    manifest = project / "package.json"
    package = json.loads(manifest.read_text())
    package.pop("type", None)
    if module_type is not None:
        package = {"name": package.pop("name"), "type": module_type, **package}
    manifest.write_text(json.dumps(package, indent=2) + "\n")
    return project


@dataclass
class Corpus:
    """A running corpus project."""

    server: ServerProcess
    project: Path

    @property
    def http(self) -> httpx.Client:
        return self.server.client

    def workbench(self, path: str) -> Any:
        response = self.http.get(f"/__motia/api{path}", headers=AUTH)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def flows(self) -> list[dict[str, Any]]:
        return list(self.workbench("/flows")["items"])

    def step_names(self) -> set[str]:
        return {step["name"] for flow in self.flows() for step in flow["steps"]}

    def edges(self) -> list[dict[str, Any]]:
        return [edge for flow in self.flows() for edge in flow["edges"]]

    def state(self, group: str, key: str) -> Any:
        response = self.http.get(f"/__motia/api/state/{group}/{key}", headers=AUTH)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()["value"]

    def stream(self, name: str, group: str) -> list[dict[str, Any]]:
        return list(self.workbench(f"/streams/{name}/{group}")["items"])

    def run_cron(self, name: str) -> None:
        response = self.http.post(f"/__motia/api/cron/{name}/run", json={}, headers=AUTH)
        assert response.status_code == 200, response.text

    def eventually(self, predicate: Callable[[], object], timeout: float = 15) -> Any:
        try:
            return wait_for(predicate, timeout=timeout, interval=0.1)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- server output ---\n{self.server.output()}") from None

    def first_stream_frame(self, path: str) -> tuple[int, Any]:
        """GET a Server-Sent Events stream: (status, first `data:` frame) or (status, body)."""
        with self.http.stream("GET", path, timeout=10) as response:
            if response.status_code != 200:
                response.read()
                return response.status_code, response.json()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    return 200, json.loads(line[len("data: ") :])
        raise AssertionError(f"{path}: the stream ended without a frame")

    def first_socket_frames(
        self, stream: str, groups: list[str], subprotocols: list[str] | None = None
    ) -> list[Any]:
        """Join each group of `stream` over one WebSocket; the first frame answering each."""
        url = self.server.url.replace("http://", "ws://")
        with connect(url, subprotocols=subprotocols, open_timeout=5) as socket:  # type: ignore[arg-type]
            frames = []
            for group in groups:
                join = {"streamName": stream, "groupId": group, "subscriptionId": uuid.uuid4().hex}
                socket.send(json.dumps({"type": "join", "data": join}))
                frames.append(json.loads(socket.recv(timeout=10)))
            return frames

    # --- what every corpus run checks -------------------------------------------------

    def assert_loaded(self, expected_steps: set[str]) -> None:
        """Every step loaded, none failed, and nothing printed a load error (warnings, such as
        the one for two streams with one name, are allowed)."""
        output = self.server.output()
        assert self.step_names() == expected_steps, output
        health = self.http.get("/__motia/health").json()
        assert health.get("errors", 0) == 0, (health, output)
        errors = ERROR_LINE.findall(output)
        assert not errors, f"error lines in the output:\n{output}"
        for internal in IMPORT_INTERNALS:
            assert internal not in output, output

    def assert_npm_quiet(self) -> None:
        """Missing classic npm packages (`motia`, `@motiadev/*`) cost at most one info line."""
        output = self.server.output()
        lines = [line for line in output.splitlines() if NPM_LINE.search(line)]
        assert len(lines) <= 1, f"more than one line about npm packages:\n{output}"
        for line in lines:
            assert not re.search(r"\b(ERROR|WARN|error|warning)\b", line), line


def field_errors(response: httpx.Response) -> set[str]:
    """The fields a 400 answer names."""
    assert response.status_code == 400, (response.status_code, response.text)
    return {error["field"] for error in response.json().get("errors", [])}
