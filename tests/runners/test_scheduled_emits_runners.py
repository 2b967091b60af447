"""Scheduled and cancellable emits from JavaScript and Ruby steps: `emit` gives the
message id back and takes `delay`, `at` and `key`; `cancel` takes an id or a key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from motia.testing import create_tester
from tests.runners.support import require

FILES = {
    "steps/schedule.step.js": """
        exports.config = {
          type: 'api', name: 'ScheduleJs', method: 'POST', path: '/js', emits: ['ping'],
        }
        exports.handler = async (req, { emit, cancel }) => {
          const b = req.body
          const later = await emit({ topic: 'ping', data: { from: 'js-later' }, delay: 60 })
          const dropped = await emit({
            topic: 'ping', data: { from: 'js-at' }, at: new Date(Date.parse(b.at)),
          })
          await emit({ topic: 'ping', data: { from: 'js-keyed' }, delay: 30, key: 'js-key' })
          const byId = await cancel(dropped)
          const byKey = await cancel({ key: 'js-key', topic: 'ping' })
          const none = await cancel({ key: 'nobody' })
          return { status: 200, body: { later, dropped, byId, byKey, none } }
        }
    """,
    "steps/schedule_step.rb": """
        def config
          { type: 'api', name: 'ScheduleRb', method: 'POST', path: '/rb', emits: ['ping'] }
        end

        def handler(req, context)
          later = context.emit(topic: 'ping', data: { from: 'rb-later' }, delay: 90)
          at = context.emit(topic: 'ping', data: { from: 'rb-at' },
                            at: Time.parse(req.body['at']), key: 'rb-key')
          replaced = context.emit(topic: 'ping', data: { from: 'rb-keyed' }, delay: 120,
                                  key: 'rb-key')
          by_id = context.cancel(later)
          { status: 200, body: { later: later, at: at, replaced: replaced, by_id: by_id } }
        end
    """,
    "steps/pinged_step.py": """
        config = {"type": "event", "name": "Pinged", "subscribes": ["ping"], "emits": []}


        async def handler(data, ctx):
            seen = await ctx.state.get("pings", "all") or []
            await ctx.state.set("pings", "all", [*seen, data["from"]])
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    require("node")
    require("ruby")
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


async def test_javascript_and_ruby_schedule_and_cancel(project: Path) -> None:
    async with create_tester(project) as tester:
        at = "2025-01-01T00:00:45+00:00"  # 45 s after the test clock's start
        js = await tester.post("/js", json={"at": at})
        assert js.status_code == 200, js.text
        body = js.json()
        assert isinstance(body["later"], str) and body["later"] != body["dropped"]
        assert (body["byId"], body["byKey"], body["none"]) == (True, True, False)

        rb = await tester.post("/rb", json={"at": at})
        assert rb.status_code == 200, rb.text
        answer = rb.json()
        assert answer["by_id"] is True and isinstance(answer["replaced"], str)

        pending = await tester.runtime.queue.scheduled()
        assert [e.id for e in pending] == [body["later"], answer["replaced"]]
        await tester.advance(200, timeout=20)
        assert await tester.state.get("pings", "all") == ["js-later", "rb-keyed"]
