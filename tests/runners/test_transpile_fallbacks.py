"""Which transpiler runs TypeScript, and what people are told when none can: Node's type
stripping with the imports used only as types dropped, a project's TypeScript 7 or broken
`typescript` install, and the Node of the `[node]` extra when no other Node is found."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, write_project
from tests.runners.wire import RawRunner
from tests.tools import node24, npm_packages, require

RUNNER_DIR = Path(__file__).resolve().parents[2] / "src" / "motia" / "runners" / "node"


def load(node: str, project: Path, *files: str) -> list[dict[str, Any]]:
    """The file reports of a runner started on `node` by hand, without the extra's Node."""
    runner = RawRunner([node, str(RUNNER_DIR / "runner.mjs")], project)
    try:
        assert runner.read()["t"] == "hello"
        request = runner.request({"t": "load", "files": [str(project / f) for f in files]})
        frame, _ = runner.read_until(lambda f: f.get("re") == request, timeout=60)
        assert frame["t"] == "ok", frame
        reports: list[dict[str, Any]] = frame["value"]["files"]
        return reports
    finally:
        runner.close()


def elide(source: str) -> str:
    """What the runner's import pruning makes of stripped code."""
    script = (
        f"import {{ elideUnusedImports }} from {json.dumps(str(RUNNER_DIR / 'type_strip.mjs'))};"
        "let s = ''; for await (const c of process.stdin) s += c;"
        "process.stdout.write(elideUnusedImports(s))"
    )
    result = subprocess.run(
        [require("node"), "--input-type=module", "-e", script],
        input=source,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def test_imports_used_only_as_types_are_dropped_and_the_others_kept() -> None:
    source = (
        "import { Handlers, ApiRouteConfig } from 'motia'\n"
        "import def, { Pet,\n  Owner as PetOwner } from './types'\n"
        "import * as z from 'zod'\n"
        "import { used, unused } from './lib'\n"
        "// Pet is mentioned in a comment\n"
        "const name = 'Pet'\n"
        "export const schema = z.object({ a: used(def), b: obj.PetOwner, ...rest })\n"
    )
    out = elide(source)
    lines = out.split("\n")
    assert len(lines) == len(source.split("\n")), out  # later lines keep their numbers
    assert "motia" not in out
    assert "import def from './types';" in out  # `obj.PetOwner` is no use of PetOwner
    assert "import * as z from 'zod'" in out
    assert "import { used } from './lib';" in out
    assert lines[6] == source.split("\n")[6]


def test_type_stripping_runs_steps_whose_imports_are_types_only(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "package.json": '{"type": "module"}',
            "steps/types.ts": "export interface Pet { name: string }\nexport type Id = string\n",
            "steps/pets.step.ts": """
                import { ApiRouteConfig, Handlers } from 'motia'
                import { Pet, Id } from './types'
                export const config: ApiRouteConfig = {
                  type: 'api', name: 'Pets', method: 'GET', path: '/pets', emits: [],
                }
                export const handler: Handlers['Pets'] = async () => {
                  const pet: Pet = { name: 'Rex' }
                  return { status: 200, body: pet }
                }
            """,
            "steps/broken.step.ts": """
                export const config = { type: 'noop', name: 'Broken' }
                const x: = 3
            """,
        },
    )
    pets, broken = load(node24(), project, "steps/pets.step.ts", "steps/broken.step.ts")
    assert pets["error"] is None, pets
    assert pets["config"]["name"] == "Pets"
    assert broken["error"]["line"] == 2, broken
    assert "broken.step.ts:2" in broken["error"]["message"]


def typescript_package(project: Path, version: str, main_source: str | None) -> None:
    package = project / "node_modules" / "typescript"
    (package / "lib").mkdir(parents=True)
    manifest = {"name": "typescript", "version": version, "main": "lib/typescript.js"}
    (package / "package.json").write_text(json.dumps(manifest))
    if main_source is not None:
        (package / "lib" / "typescript.js").write_text(main_source)


STEP = "export const config = { type: 'noop', name: 'Typed' }\nconst n: number = 1\n"


@pytest.fixture
def plain_node() -> str:
    node = require("node")
    probe = "process.exit(require('node:module').stripTypeScriptTypes ? 1 : 0)"
    if subprocess.run([node, "-e", probe], check=False).returncode != 0:
        pytest.skip("the system Node strips types itself, so it asks no transpiler")
    return node


def test_typescript_7_says_what_to_do(tmp_path: Path, plain_node: str) -> None:
    project = write_project(tmp_path / "project", {"package.json": "{}", "steps/a.step.ts": STEP})
    # TypeScript 7 is a native compiler: its package has no transpileModule.
    typescript_package(project, "7.0.0", "module.exports = { version: '7.0.0' }\n")
    [report] = load(plain_node, project, "steps/a.step.ts")
    message = report["error"]["message"]
    assert "typescript 7.0.0 has no JavaScript API" in message, message
    assert "npm install --save-dev esbuild" in message and "motia-python[node]" in message


def test_a_broken_typescript_install_says_what_to_do(tmp_path: Path, plain_node: str) -> None:
    project = write_project(tmp_path / "project", {"package.json": "{}", "steps/a.step.ts": STEP})
    typescript_package(project, "5.9.3", None)  # the main file is gone
    [report] = load(plain_node, project, "steps/a.step.ts")
    message = report["error"]["message"]
    assert message.startswith("the project's typescript package cannot be loaded"), message
    assert "rm -rf node_modules/typescript && npm install" in message


def test_the_extra_node_strips_types_for_an_older_node(tmp_path: Path, plain_node: str) -> None:
    project = write_project(tmp_path / "project", {"package.json": "{}", "steps/a.step.ts": STEP})
    env = {**os.environ, "MOTIA_TS_NODE": node24()}
    runner = RawRunner([plain_node, str(RUNNER_DIR / "runner.mjs")], project, env=env)
    try:
        assert runner.read()["t"] == "hello"
        request = runner.request({"t": "load", "files": [str(project / "steps/a.step.ts")]})
        frame, _ = runner.read_until(lambda f: f.get("re") == request, timeout=60)
    finally:
        runner.close()
    [report] = frame["value"]["files"]
    assert report["error"] is None and report["config"]["name"] == "Typed", report


VERSION_STEP = """
    export const config = { type: 'api', name: 'Version', method: 'GET', path: '/version' }
    export const handler = async () => ({ status: 200, body: { node: process.version } })
"""


def test_the_extra_node_runs_steps_when_no_node_is_on_path(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    extra = node24()
    system = require("node")
    zod = npm_packages({"zod": "^3.25.76"})
    project = write_project(
        tmp_path / "project",
        {"package.json": '{"dependencies": {"zod": "^3.25.76"}}', "steps/v.step.ts": VERSION_STEP},
    )
    (project / "node_modules").symlink_to(zod, target_is_directory=True)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    versions = {}
    for label, env in (
        ("extra", {"PATH": str(empty)}),
        ("named", {"PATH": str(empty), "MOTIA_NODE": system}),
    ):
        server = server_factory(project, "start", env=env)
        answer = server.client.get("/version")
        assert answer.status_code == 200, server.output()
        versions[label] = answer.json()["node"]
        server.stop()
    expected = subprocess.run([extra, "--version"], capture_output=True, text=True).stdout
    assert versions["extra"] == expected.strip()
    system_version = subprocess.run([system, "--version"], capture_output=True, text=True).stdout
    assert versions["named"] == system_version.strip()  # MOTIA_NODE wins
