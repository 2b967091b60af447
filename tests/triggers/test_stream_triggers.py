"""Stream triggers: a step runs when an item of its stream is created, updated or deleted,
with the old and new item, through the durable queue; other streams and changes its
condition refuses fire nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.testing import MotiaTester, create_tester
from tests.conftest import write_project
from tests.triggers.support import BACKENDS, backend_config

STEPS = {
    "steps/todos_stream.py": """
        config = {"name": "todos", "schema": {"type": "object"}}
    """,
    "steps/notes_stream.py": """
        config = {"name": "notes", "schema": {"type": "object"}}
    """,
    "steps/editor_step.py": """
        config = {"name": "Editor", "triggers": [{"type": "http", "method": "POST",
                                                  "path": "/edit"}]}

        async def handler(req, ctx):
            b = req["body"]
            stream = ctx.streams[b["stream"]]
            if b["op"] == "set":
                await stream.set(b["group"], b["id"], b["data"])
            elif b["op"] == "update":
                await stream.update(b["group"], b["id"], b["ops"])
            else:
                await stream.delete(b["group"], b["id"])
            return {"status": 200, "body": {}}
    """,
    "steps/on_todo_step.py": """
        from motia import stream

        def not_drafts(change, ctx):
            item = change["new_value"] or change["old_value"]
            return not item.get("draft", False)

        config = {"name": "OnTodo", "triggers": [stream("todos", condition=not_drafts)]}

        async def handler(change, ctx):
            assert ctx.is_stream() and ctx.trigger == {"type": "stream", "streamName": "todos"}
            old, new = change["old_value"], change["new_value"]
            await ctx.state.set("todo-changes", f"{change['id']}:{change['type']}", {
                "group": change["group_id"],
                "old": old and old.get("title"),
                "new": new and new.get("title"),
            })
    """,
}


@pytest.fixture(params=BACKENDS)
def tester(request: pytest.FixtureRequest, tmp_path: Path) -> MotiaTester:
    project = write_project(tmp_path / "p", STEPS)
    return create_tester(project, config=backend_config(request.param, tmp_path, request))


async def _edit(tester: MotiaTester, **body: object) -> None:
    answer = await tester.post("/edit", json=body)
    assert answer.status_code == 200, answer.text
    await tester.wait_until_idle()


async def test_create_update_delete_fire_with_old_and_new(tester: MotiaTester) -> None:
    async with tester:
        await _edit(tester, stream="todos", op="set", group="u1", id="t1", data={"title": "a"})
        await _edit(tester, stream="todos", op="set", group="u1", id="t1", data={"title": "b"})
        await _edit(
            tester,
            stream="todos",
            op="update",
            group="u1",
            id="t1",
            ops=[{"type": "set", "path": "title", "value": "c"}],
        )
        await _edit(tester, stream="todos", op="delete", group="u1", id="t1")
        assert await tester.state.items("todo-changes") == {
            "t1:create": {"group": "u1", "old": None, "new": "a"},
            "t1:update": {"group": "u1", "old": "b", "new": "c"},
            "t1:delete": {"group": "u1", "old": "c", "new": None},
        }


async def test_other_streams_and_refused_changes_fire_nothing(tester: MotiaTester) -> None:
    async with tester:
        await _edit(tester, stream="notes", op="set", group="u1", id="n1", data={"title": "x"})
        await _edit(
            tester, stream="todos", op="set", group="u1", id="t2", data={"title": "d", "draft": 1}
        )
        await _edit(tester, stream="todos", op="delete", group="u1", id="missing")
        assert await tester.state.items("todo-changes") == {}
        # The change stream still reached its live subscribers as before.
        assert await tester.stream_item("todos", "u1", "t2") is not None
