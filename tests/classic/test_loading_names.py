"""Step and stream files load by path, whatever their names: hyphens, leading digits and
dots in file and folder names, as classic Motia loaded them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from motia.runtime.loading import load_project
from motia.testing import import_step
from tests.conftest import ServerProcess, wait_for, write_project

# A project whose every file and folder name is something classic Motia loaded.
ODD_NAMES = {
    "steps/lib/__init__.py": "",
    "steps/lib/store.py": """
        SEEN: list[str] = []
    """,
    # Hyphens and a leading digit, in a folder whose name is not an identifier either.
    "steps/rag-ingestion/03-property-search-processor_step.py": """
        from steps.lib import store as absolute_store
        from ..lib import store

        assert store is absolute_store
        config = {
            "type": "api", "name": "Search", "method": "POST", "path": "/search",
            "emits": ["search.requested"], "flows": ["search"],
        }

        async def handler(req, ctx):
            store.SEEN.append(req["body"]["q"])
            await ctx.emit({"topic": "search.requested", "data": {"q": req["body"]["q"]}})
            return {"status": 202, "body": {"seen": store.SEEN}}
    """,
    # Dots in the file name and in the folder name, with relative imports of neighbours.
    "steps/jobs.v2/reminder.job_step.py": """
        from .format_helpers import shout
        from ..lib import store

        config = {
            "type": "event", "name": "Remind", "subscribes": ["search.requested"],
            "emits": [], "flows": ["search"],
        }

        async def handler(input_data, ctx):
            await ctx.streams.messages.set("all", input_data["q"], {"text": shout(input_data["q"])})
            store.SEEN.append("reminded")
    """,
    "steps/jobs.v2/format_helpers.py": """
        def shout(text):
            return text.upper() + "!"
    """,
    "src/python/deletion_reaper.cron_step.py": """
        config = {"type": "cron", "name": "Reaper", "cron": "0 2 * * *", "emits": []}

        async def handler(ctx):
            pass
    """,
    "steps/00-rbac-message_stream.py": """
        config = {
            "name": "messages",
            "schema": {"type": "object", "properties": {"text": {"type": "string"}}},
            "baseConfig": {"storageType": "default"},
        }
    """,
}


def test_every_odd_name_loads_with_its_imports(tmp_path: Path) -> None:
    write_project(tmp_path, ODD_NAMES)
    project = load_project(tmp_path)
    assert project.problems == []
    assert sorted(step.name for step in project.steps) == ["Reaper", "Remind", "Search"]
    assert [stream.name for stream in project.streams] == ["messages"]
    # One module object per file: the helper both steps import is the same object.
    remind = next(s for s in project.steps if s.name == "Remind")
    search = next(s for s in project.steps if s.name == "Search")
    assert remind.handler is not None and search.handler is not None
    assert remind.handler.__globals__["store"] is search.handler.__globals__["store"]
    assert sys.modules["steps.lib.store"] is search.handler.__globals__["store"]


def test_a_step_imported_by_another_step_is_one_module(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            # Loaded first (sorted order), and imports the step loaded after it.
            "steps/a-first_step.py": """
                from .z.last_step import handler as last_handler
                config = {"type": "cron", "name": "First", "cron": "* * * * *", "emits": []}

                async def handler(ctx):
                    return last_handler
            """,
            "steps/z/last_step.py": """
                config = {"type": "cron", "name": "Last", "cron": "* * * * *", "emits": []}

                async def handler(ctx):
                    pass
            """,
        },
    )
    project = load_project(tmp_path)
    assert project.problems == []
    first, last = sorted(project.steps, key=lambda s: s.name)
    assert first.handler is not None
    assert first.handler.__globals__["last_handler"] is last.handler


def test_import_step_loads_odd_names_for_unit_tests(tmp_path: Path) -> None:
    write_project(tmp_path, ODD_NAMES)
    module = import_step(tmp_path, "steps/jobs.v2/reminder.job_step.py")
    assert module.config["name"] == "Remind"
    assert module.shout("hi") == "HI!"


def _messages(problems: list[object]) -> str:
    return "\n".join(map(str, problems))


def test_files_that_cannot_load_are_named(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "steps/broken-syntax_step.py": "config = {\n  'type': 'api',,\n}\n",
            "steps/needs.missing_step.py": "import not_installed_anywhere\n",
            "steps/orders_step.py": "config = {}\n",
            # A package of the same name wins over the file in Python's import system.
            "steps/orders_step/__init__.py": "",
            "steps/bad-pkg.v1/__init__.py": "raise RuntimeError('package init failed')\n",
            "steps/bad-pkg.v1/inner_step.py": "config = {}\n",
        },
    )
    problems = load_project(tmp_path).problems
    text = _messages(problems)
    assert "frozen importlib" not in text and "<frozen" not in text
    by_file = {str(p.file): p for p in problems}
    syntax = by_file["steps/broken-syntax_step.py"]
    assert syntax.line == 2 and "SyntaxError" in syntax.message
    missing = by_file["steps/needs.missing_step.py"]
    assert "not_installed_anywhere" in missing.message and missing.line == 1
    clash = by_file["steps/orders_step.py"]
    assert "steps/orders_step/__init__.py" in clash.message
    assert clash.hint == "rename the file or that folder"
    package = by_file["steps/bad-pkg.v1/__init__.py"]
    assert "package init failed" in package.message
    assert "while loading steps/bad-pkg.v1/inner_step.py" in package.message
    assert all(p.is_error for p in problems) and len(problems) == 4


READ_BACK = {
    "steps/read-back/01-get-message_step.py": """
        config = {
            "type": "api", "name": "ReadBack", "method": "GET", "path": "/messages/:id",
            "emits": [],
        }

        async def handler(req, ctx):
            item = await ctx.streams.messages.get("all", req["pathParams"]["id"])
            return {"status": 200 if item else 404, "body": item}
    """,
}


def test_odd_names_serve_a_flow_in_start(
    tmp_path: Path, server_factory: Callable[..., ServerProcess]
) -> None:
    project = write_project(tmp_path / "project", {**ODD_NAMES, **READ_BACK})
    server = server_factory(project, "start")
    assert "error" not in server.output().lower()
    answer = server.client.post("/search", json={"q": "flat"})
    assert answer.status_code == 202 and answer.json() == {"seen": ["flat"]}
    # The event step in `jobs.v2/reminder.job_step.py` ran and wrote the stream item.
    item = wait_for(lambda: server.client.get("/messages/flat").status_code == 200)
    assert item
    body = server.client.get("/messages/flat").json()
    assert body["text"] == "FLAT!" and body["id"] == "flat"
