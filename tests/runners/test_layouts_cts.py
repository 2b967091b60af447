"""`.cts` steps written with `import`/`export`, as tsc compiles them to CommonJS, in a project
with no transpiler of its own, in real `motia dev` and `motia start` servers: on the machine's
Node 20 (types stripped by the `[node]` extra's Node) and on that Node 24 itself. They keep
`require`, `__dirname` and `__filename`, get tsc's `esModuleInterop` default imports from
CommonJS modules, and import packages published only as ES modules; `.cts` steps written with
`require`/`module.exports`, or with `import x = require()` and `export =`, run beside them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerProcess, wait_for, write_project
from tests.runners.test_layouts_module_layouts import node_major
from tests.runners.test_transpile_fallbacks import RUNNER_DIR
from tests.runners.wire import RawRunner
from tests.tools import copy_node_project, node24, require

PROJECT = Path(__file__).resolve().parent / "fixtures" / "layouts" / "cjs_cts_imports"


@pytest.fixture(params=["system-node", "node-24-extra"])
def node(request: pytest.FixtureRequest) -> str:
    return node24() if request.param == "node-24-extra" else require("node")


@pytest.mark.parametrize("mode", ["dev", "start"])
def test_cts_steps_with_import_and_export_run_without_a_transpiler(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], node: str, mode: str
) -> None:
    project = copy_node_project(PROJECT, tmp_path / "project")
    assert not (project / "node_modules" / "esbuild").exists()
    assert not (project / "node_modules" / "typescript").exists()
    server = server_factory(project, mode, env={"MOTIA_NODE": node})
    output = server.output()
    assert "error" not in output.lower(), output

    welcomed = server.client.post("/welcome", json={"name": "ann"})
    assert welcomed.status_code == 200, welcomed.text + server.output()
    body = welcomed.json()
    assert re.fullmatch(r"[\w-]{8}", body["id"]), body  # nanoid 5: an ES module only package
    assert body["text"] == "WELCOME ANN!"  # default import of module.exports, a .ts helper
    assert body["echo"] == "heyhey"  # a named import from a CommonJS module
    assert body["stamp"] == "stamped"  # `exports.default` of an `__esModule` module
    assert body["file"] == "welcome.step.cts"
    assert body["dirname"] == str(project / "steps")
    assert body["folder"] == "steps"  # a `.cts` helper written with module.exports
    assert body["required"] == "hoho"
    assert body["node"].startswith(f"v{node_major(node)}.")

    def signed() -> object:
        answer = server.client.get(f"/guestbook/{body['id']}")
        return answer.json() if answer.status_code == 200 else None

    entry = wait_for(signed, timeout=20)
    assert entry == {"id": body["id"], "name": "ann", "signedBy": "sign.step.cts", "twice": "xx"}
    assert server.client.get("/guestbook/nobody").status_code == 404

    refused = server.client.post("/welcome", json={"name": "a"})
    assert refused.status_code == 400
    assert {error["field"] for error in refused.json()["errors"]} == {"name"}

    if mode == "dev":
        # Edits to the step and to the CommonJS module it imports are picked up.
        step = project / "steps" / "welcome.step.cts"
        step.write_text(step.read_text().replace("echo: twice('hey')", "echo: twice('edited')"))
        (project / "steps" / "lib" / "shout.cjs").write_text(
            "module.exports = (text) => `${text}?`\nmodule.exports.twice = (t) => `${t}${t}`\n"
        )

        def edited() -> object:
            answer = server.client.post("/welcome", json={"name": "bob"}).json()
            return answer if answer.get("echo") == "editededited" else None

        again = wait_for(edited, timeout=20)
        assert isinstance(again, dict)
        assert again["text"] == "welcome bob?" and again["file"] == "welcome.step.cts"
        assert again["required"] == "hoho" and again["stamp"] == "stamped"


def load(node: str, project: Path, *files: str) -> list[dict[str, Any]]:
    """The file reports of a runner on `node`, types stripped by the extra's Node if need be."""
    env = {**os.environ, "MOTIA_TS_NODE": node24()}
    runner = RawRunner([node, str(RUNNER_DIR / "runner.mjs")], project, env=env)
    try:
        assert runner.read()["t"] == "hello"
        request = runner.request({"t": "load", "files": [str(project / f) for f in files]})
        frame, _ = runner.read_until(lambda f: f.get("re") == request, timeout=60)
        assert frame["t"] == "ok", frame
        reports: list[dict[str, Any]] = frame["value"]["files"]
        return reports
    finally:
        runner.close()


def test_a_cts_file_with_import_and_export_required_from_commonjs_says_what_to_do(
    tmp_path: Path, node: str
) -> None:
    project = write_project(
        tmp_path / "project",
        {
            "package.json": json.dumps({"name": "x"}),
            "steps/lib/modern.cts": "export const answer: number = 42\n",
            "steps/uses.step.js": """
                const { answer } = require('./lib/modern.cts')
                exports.config = { type: 'noop', name: 'Uses', answer }
            """,
            "steps/imports.step.cts": """
                import { answer } from './lib/modern.cts'
                export const config = { type: 'noop', name: 'Imports', answer }
            """,
            "steps/broken.step.cts": """
                import path from 'path'
                import {
                  basename,
                } from 'path'
                export const config = { type: 'noop', name: 'Broken', at: basename(__dirname) }
                throw new Error(`broken on purpose in ${path.basename(__filename)}`)
            """,
        },
    )
    uses, imports, broken = load(
        node, project, "steps/uses.step.js", "steps/imports.step.cts", "steps/broken.step.cts"
    )
    message = uses["error"]["message"]
    assert "modern.cts uses import/export but is loaded with require()" in message, uses
    assert "npm install --save-dev esbuild" in message
    assert imports["error"] is None, imports
    assert imports["config"]["answer"] == 42
    # Rewritten imports keep the lines of what follows them.
    assert broken["error"]["message"] == "broken on purpose in broken.step.cts", broken
    assert broken["error"]["line"] == 6, broken
