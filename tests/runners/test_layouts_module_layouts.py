"""TypeScript and JavaScript projects in every module layout, in real `motia dev` and
`motia start` servers: an ES module package (`"type": "module"`, `import.meta`, top-level
await, an ES-module-only package, `.mts`, a `.js` step importing a `.ts` helper) and a
CommonJS package (`require`, `__dirname`, `.cts`, CommonJS helpers, a JSON import), both with
tsconfig.json path aliases. Each runs on the machine's Node 20 (TypeScript stripped by the
`[node]` extra's Node, or compiled by the project's esbuild) and on that Node 24 itself,
which strips types in process. Neither installs the classic `motia` packages."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, wait_for
from tests.tools import copy_node_project, node24, require

LAYOUTS = Path(__file__).resolve().parent / "fixtures" / "layouts"


def node_major(binary: str) -> int:
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    return int(version.stdout.strip().lstrip("v").split(".")[0])


ESBUILD = {"esbuild": "^0.28.2"}


@pytest.fixture(params=["system-node", "system-node-esbuild", "node-24-extra"])
def node(request: pytest.FixtureRequest) -> tuple[str, int, dict[str, str]]:
    """The Node that runs the steps, its major version, and npm packages to add: with
    esbuild in the project, an older Node compiles TypeScript with it (CommonJS stays
    CommonJS)."""
    binary = node24() if request.param == "node-24-extra" else require("node")
    return binary, node_major(binary), ESBUILD if request.param.endswith("esbuild") else {}


@pytest.fixture(params=["dev", "start"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_an_es_module_typescript_project(
    tmp_path: Path,
    server_factory: Callable[..., ServerProcess],
    node: tuple[str, int, dict[str, str]],
    mode: str,
) -> None:
    binary, major, also = node
    project = copy_node_project(LAYOUTS / "esm_ts", tmp_path / "project", also=also)
    server = server_factory(project, mode, env={"MOTIA_NODE": binary})
    output = server.output()
    assert "error" not in output.lower(), output
    # The classic packages are listed in package.json, not installed, and not needed.
    assert output.count("not installed") == 1, output
    assert "@motiadev/core, motia" in output

    created = server.client.post(
        "/tickets",
        json={"title": "Printer on fire", "email": "ann@example.com", "priority": "high"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert re.fullmatch(r"TCK-[A-HJ-NP-Z]{6}", body["id"]), body  # nanoid + the `~config` alias
    assert body["package"] == "layout-esm-ts"  # top-level await on import.meta.url
    assert body["folder"] == "lib" and body["url"] is True  # import.meta in a helper
    assert body["dirname"] == str(project / "steps")

    def triaged() -> object:
        answer = server.client.get(f"/tickets/{body['id']}")
        return answer.json() if answer.status_code == 200 and answer.json().get("triaged") else None

    ticket = wait_for(triaged, timeout=20)
    assert isinstance(ticket, dict)
    assert ticket["title"] == "Printer on fire" and ticket["level"] == 5  # a TypeScript enum
    assert ticket["highLevel"] == 5  # the .js step imported the .ts helper
    assert ticket["node"].startswith(f"v{major}.")

    refused = server.client.post(
        "/tickets", json={"title": "no", "email": "not-an-email", "link": "not a url"}
    )
    assert refused.status_code == 400, refused.text
    fields = {error["field"] for error in refused.json()["errors"]}
    assert fields == {"title", "email", "link"}, refused.json()


def test_a_commonjs_typescript_project(
    tmp_path: Path,
    server_factory: Callable[..., ServerProcess],
    node: tuple[str, int, dict[str, str]],
    mode: str,
) -> None:
    binary, major, also = node
    project = copy_node_project(LAYOUTS / "cjs_ts", tmp_path / "project", also=also)
    server = server_factory(project, mode, env={"MOTIA_NODE": binary})
    output = server.output()
    assert "error" not in output.lower(), output
    assert output.count("not installed") == 1, output

    greeted = server.client.post("/greet", json={"name": "ann", "site": "https://example.com"})
    assert greeted.status_code == 200, greeted.text
    body = greeted.json()
    assert body["text"] == "HELLO ANN!"  # a CommonJS .js helper and a `paths` alias
    assert body["folder"] == "steps"  # a .cts helper through require()
    assert body["dirname"] == str(project / "steps")
    assert body["node"].startswith(f"v{major}.")
    assert body["farewell"] == "goodbye"  # JSON imported as TypeScript does, no attribute

    def recorded() -> object:
        answer = server.client.get(f"/greet/{body['traceId']}")
        return answer.json() if answer.status_code == 200 else None

    record = wait_for(recorded, timeout=20)
    assert record == {"name": "ann", "recorded": True, "loud": "ANN!"}

    refused = server.client.post("/greet", json={"name": "a", "site": "nowhere"})
    assert refused.status_code == 400
    assert {error["field"] for error in refused.json()["errors"]} == {"name", "site"}
