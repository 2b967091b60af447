"""What a user's mistakes do at run time: a key function that raises is logged and the
event still runs (under the shared key); a key path that finds nothing shares one bucket."""

from __future__ import annotations

from pathlib import Path

from motia.testing import create_tester
from tests.conftest import write_project

PROJECT = {
    "steps/fragile_step.py": """
        RAN = []


        def tenant(data):
            return data["tenant"]  # KeyError when the event has none


        config = {
            "type": "event",
            "name": "Fragile",
            "subscribes": ["job"],
            "emits": [],
            "concurrency": {"limit": 1, "key": tenant},
            "idempotencyKey": lambda data: data["id"],
        }


        async def handler(data, ctx):
            RAN.append(data)
            await ctx.state.set("ran", str(len(RAN)), data)
    """,
}


async def test_a_failing_key_function_is_logged_and_the_event_still_runs(tmp_path: Path) -> None:
    write_project(tmp_path, PROJECT)
    async with create_tester(tmp_path) as tester:
        await tester.emit({"topic": "job", "data": {"n": 1}})  # no tenant, no id
        await tester.emit({"topic": "job", "data": {"n": 2}})
        await tester.wait_until_idle()
        ran = await tester.state.get_group("ran")
        assert sorted(item["n"] for item in ran) == [1, 2]  # no id: not deduplicated
        errors = [r for r in tester.logs if "flow-control key function failed" in r.get("msg", "")]
        # Each failing key on its own, once per delivery (or more: the second event may
        # have waited for the shared key).
        assert all(r.get("step") == "Fragile" and "KeyError" in r["msg"] for r in errors)
        assert sum("(idempotencyKey)" in r["msg"] for r in errors) >= 2
        assert sum("(concurrency)" in r["msg"] for r in errors) >= 2
        assert await tester.dead_letters() == []
