"""Config forms classic Motia accepted: `subscribes: []`, `emits: []`, no `flows`, virtual
and labelled emits, `input: None`, and two stream files with one name (the later wins)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from motia.runtime.loading import load_project
from motia.testing import create_tester
from tests.conftest import ServerProcess, write_project

FORMS = {
    # No flows, `emits: []` (any topic may be emitted), labelled virtual emits.
    "steps/intake_step.py": """
        config = {
            "type": "api", "name": "Intake", "method": "POST", "path": "/intake",
            "emits": [],
            "virtualEmits": [{"topic": "intake.reviewed", "label": "by a person"}],
            "virtualSubscribes": ["form.submitted"],
        }

        async def handler(req, ctx):
            await ctx.emit({"topic": "intake.received", "data": req["body"]})
            return {"status": 202, "body": {"ok": True}}
    """,
    # Labelled and conditional emits, `input: None`.
    "steps/sort_step.py": """
        config = {
            "type": "event", "name": "Sort", "subscribes": ["intake.received"],
            "input": None, "flows": ["intake"],
            "emits": [{"topic": "intake.urgent", "label": "urgent", "conditional": True},
                      {"topic": "intake.routine", "label": "routine"}],
        }

        async def handler(input_data, ctx):
            topic = "intake.urgent" if input_data.get("urgent") else "intake.routine"
            await ctx.emit({"topic": topic, "data": input_data})
    """,
    "steps/file_step.py": """
        config = {"type": "event", "name": "File",
                  "subscribes": ["intake.urgent", "intake.routine"], "emits": []}

        async def handler(input_data, ctx):
            await ctx.state.set("filed", input_data["id"], input_data)
    """,
    # A step that nothing triggers yet.
    "steps/later_step.py": """
        config = {"type": "event", "name": "Later", "subscribes": [], "emits": []}

        async def handler(input_data, ctx):
            raise AssertionError("nothing subscribes this step to anything")
    """,
    "steps/review_step.py": """
        config = {"type": "noop", "name": "Review",
                  "virtualSubscribes": ["intake.received"],
                  "virtualEmits": [{"topic": "intake.reviewed", "label": "approved"}]}
    """,
}


async def test_classic_forms_load_and_run(tmp_path: Path) -> None:
    project = write_project(tmp_path, FORMS)
    loaded = load_project(project)
    assert loaded.errors == []
    assert sorted(s.name for s in loaded.steps) == ["File", "Intake", "Later", "Review", "Sort"]

    async with create_tester(project) as tester:
        for item in ({"id": "a", "urgent": True}, {"id": "b"}):
            answer = await tester.post("/intake", json=item)
            assert answer.status_code == 202
        await tester.wait_until_idle()
        assert await tester.state.get("filed", "a") == {"id": "a", "urgent": True}
        assert await tester.state.get("filed", "b") == {"id": "b"}
        assert tester.failures == []


def stream_file(required: str, kind: str) -> str:
    return f"""
        config = {{
            "name": "chat",
            "schema": {{"type": "object", "required": ["{required}"],
                        "properties": {{"{required}": {{"type": "{kind}"}}}}}},
            "baseConfig": {{"storageType": "default"}},
        }}
    """


DUPLICATE_STREAMS = {
    "steps/a_chat/chat_stream.py": stream_file("text", "string"),
    "steps/b_chat/chat_stream.py": stream_file("count", "integer"),
    "steps/post_step.py": """
        config = {"type": "api", "name": "Post", "method": "POST", "path": "/chat",
                  "emits": []}

        async def handler(req, ctx):
            item = await ctx.streams.chat.set("room", "1", req["body"])
            return {"status": 200, "body": item}
    """,
}


def test_the_later_stream_file_wins_with_a_warning(tmp_path: Path) -> None:
    project = write_project(tmp_path, DUPLICATE_STREAMS)
    loaded = load_project(project)
    assert loaded.errors == []
    [stream] = loaded.streams
    assert stream.file == project / "steps/b_chat/chat_stream.py"
    [warning] = loaded.warnings
    assert str(warning.file) == "steps/b_chat/chat_stream.py"
    assert "steps/a_chat/chat_stream.py" in warning.message


@pytest.mark.parametrize("mode", ["dev", "start"])
def test_duplicate_streams_in_a_real_server(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], mode: str
) -> None:
    project = write_project(tmp_path / "project", DUPLICATE_STREAMS)
    server = server_factory(project, mode)
    output = server.output()
    assert "steps/a_chat/chat_stream.py" in output and "steps/b_chat/chat_stream.py" in output
    # The later file's schema is the one in force.
    assert server.client.post("/chat", json={"count": 3}).status_code == 200
    assert server.client.post("/chat", json={"text": "hi"}).status_code == 500
