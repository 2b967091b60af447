"""Step discovery in a real `motia start`: `steps/` and `src/`, deep folders, relative and
absolute imports, deprecated `.step.py` names and steps of other languages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli._support import json_records, running
from tests.conftest import ServerProcess, write_project

PROJECT: dict[str, str] = {
    "steps/lib/__init__.py": "",
    "steps/lib/shared.py": """
        TOKEN = object()


        def shout(text):
            return text.upper() + "!"
        """,
    "steps/a/lib.py": """
        def greet(name):
            return f"hello {name}"
        """,
    # relative import two levels up: steps.a.b -> steps.a.lib
    "steps/a/b/c_step.py": """
        from ..lib import greet
        from ...lib import shared

        config = {
            "type": "api",
            "name": "Relative",
            "method": "GET",
            "path": "/relative",
            "emits": [],
        }


        async def handler(req, ctx):
            return {"status": 200, "body": {"text": greet("relative"), "token": id(shared.TOKEN)}}
        """,
    # absolute import from the project root, five folders deep
    "steps/deep/d1/d2/d3/d4/absolute_step.py": """
        from steps.lib import shared
        from steps.lib.shared import shout

        config = {
            "type": "api",
            "name": "Absolute",
            "method": "GET",
            "path": "/absolute",
            "emits": [],
        }


        async def handler(req, ctx):
            return {"status": 200, "body": {"text": shout("absolute"), "token": id(shared.TOKEN)}}
        """,
    "src/api/v1/from_src_step.py": """
        config = {
            "type": "api",
            "name": "FromSrc",
            "method": "GET",
            "path": "/from-src",
            "emits": [],
        }


        async def handler(req, ctx):
            return {"status": 200, "body": {"root": "src"}}
        """,
    "steps/legacy/thing.step.py": """
        config = {"type": "api", "name": "Legacy", "method": "GET", "path": "/legacy", "emits": []}


        async def handler(req, ctx):
            return {"status": 200, "body": {"legacy": True}}
        """,
    "steps/deep/er/hello.step.js": """
        exports.config = {
          type: 'api', name: 'HelloJs', method: 'GET', path: '/hello-js', emits: ['x'],
        }
        exports.handler = async () => ({ status: 200, body: { from: 'javascript' } })
        """,
    "src/jobs/x_step.rb": """
        def config
          { type: 'api', name: 'RubyStep', method: 'GET', path: '/hello-rb', emits: [] }
        end

        def handler(req, context)
          { status: 200, body: { from: 'ruby' } }
        end
        """,
    "steps/lonely_step.py": """
        config = {
            "type": "event",
            "name": "Lonely",
            "subscribes": ["nobody.emits.this"],
            "emits": [],
        }


        async def handler(input_data, ctx):
            pass
        """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    project = write_project(tmp_path_factory.mktemp("discovery"), PROJECT)
    with running(project, "start") as server:
        yield server


def messages(server: ServerProcess, level: str) -> list[str]:
    return [str(r.get("msg")) for r in json_records(server.output()) if r.get("level") == level]


def get_json(server: ServerProcess, path: str) -> Any:
    response = server.client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def test_nested_step_with_relative_imports(server: ServerProcess) -> None:
    assert get_json(server, "/relative")["text"] == "hello relative"


def test_deeply_nested_step_with_absolute_import_from_project_root(server: ServerProcess) -> None:
    assert get_json(server, "/absolute")["text"] == "ABSOLUTE!"


def test_relative_and_absolute_imports_share_one_module(server: ServerProcess) -> None:
    assert get_json(server, "/relative")["token"] == get_json(server, "/absolute")["token"]


def test_steps_under_src_are_discovered(server: ServerProcess) -> None:
    assert get_json(server, "/from-src") == {"root": "src"}


def test_deprecated_dot_step_file_is_not_loaded_and_rename_is_suggested(
    server: ServerProcess,
) -> None:
    assert server.client.get("/legacy").status_code == 404
    warnings = [m for m in messages(server, "warn") if "thing.step.py" in m]
    assert warnings, server.output()
    assert "thing_step.py" in warnings[0]
    assert "rename" in warnings[0].lower()


@pytest.mark.parametrize(("path", "language"), [("/hello-js", "javascript"), ("/hello-rb", "ruby")])
def test_javascript_and_ruby_steps_are_found_in_steps_and_src(
    server: ServerProcess, path: str, language: str
) -> None:
    response = server.client.get(path)
    assert response.status_code == 200, server.output()
    assert response.json() == {"from": language}


def test_unemitted_subscription_is_a_warning_and_server_starts(server: ServerProcess) -> None:
    assert any("nobody.emits.this" in m for m in messages(server, "warn")), server.output()
    assert not messages(server, "error"), server.output()
    assert server.client.get("/__motia/health").status_code == 200
