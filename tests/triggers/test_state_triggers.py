"""State triggers: a step runs for each state change its trigger and condition accept,
with the old and new value, through the durable queue, in change order per key. The same
project runs on memory, SQLite and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motia.testing import MotiaTester, create_tester
from tests.conftest import write_project
from tests.triggers.support import BACKENDS, backend_config

STEPS = {
    "steps/writer_step.py": """
        from motia import http

        config = {"name": "Writer", "triggers": [http("POST", "/write")]}

        async def handler(req, ctx):
            body = req["body"]
            op = body["op"]
            if op == "set":
                await ctx.state.set(body["group"], body["key"], body["value"])
            elif op == "update":
                new = await ctx.state.update(body["group"], body["key"], body["ops"])
                return {"status": 200, "body": new}
            elif op == "delete":
                await ctx.state.delete(body["group"], body["key"])
            elif op == "clear":
                await ctx.state.clear(body["group"])
            return {"status": 200, "body": {}}
    """,
    "steps/watcher_step.py": """
        from motia import state

        def big_orders(change, ctx):
            new = change["new_value"]
            return isinstance(new, dict) and new.get("total", 0) >= 100

        config = {"name": "BigOrders", "flows": ["orders"],
                  "triggers": [state(group="orders", condition=big_orders)]}

        async def handler(change, ctx):
            assert ctx.is_state() and ctx.get_data() is change
            seen = await ctx.state.get("seen", "big") or []
            seen.append([change["key"], change["type"], change["old_value"], change["new_value"]])
            await ctx.state.set("seen", "big", seen)
    """,
    "steps/audit_step.py": """
        from motia import state

        async def only_deletes(change, ctx):
            return change["type"] == "delete"

        config = {"name": "Audit", "triggers": [state(condition=only_deletes)]}

        async def handler(change, ctx):
            # One key per change: changes of different keys run in parallel.
            await ctx.state.set("audit", change["group"] + "/" + change["key"], change["old_value"])
    """,
}


@pytest.fixture(params=BACKENDS)
def tester(request: pytest.FixtureRequest, tmp_path: Path) -> MotiaTester:
    """Started by each test (`async with tester`)."""
    project = write_project(tmp_path / "p", STEPS)
    return create_tester(project, config=backend_config(request.param, tmp_path, request))


async def _write(tester: Any, **body: Any) -> Any:
    answer = await tester.post("/write", json=body)
    assert answer.status_code == 200, answer.text
    await tester.wait_until_idle()
    return answer.json()


async def test_changes_that_match_fire_in_order_and_others_fire_nothing(
    tester: MotiaTester,
) -> None:
    async with tester:
        await _write(tester, op="set", group="orders", key="a", value={"total": 5})
        assert await tester.state.get("seen", "big") is None  # condition false: nothing ran
        await _write(tester, op="set", group="orders", key="a", value={"total": 150})
        await _write(tester, op="set", group="other", key="a", value={"total": 999})  # not watched
        total = await _write(
            tester,
            op="update",
            group="orders",
            key="a",
            ops=[{"type": "increment", "path": "total"}],
        )
        assert total == {"total": 151}
        assert await tester.state.get("seen", "big") == [
            ["a", "set", {"total": 5}, {"total": 150}],
            ["a", "update", {"total": 150}, {"total": 151}],
        ]
        assert await tester.state.items("audit") == {}

        await _write(tester, op="delete", group="orders", key="a")
        await _write(tester, op="delete", group="orders", key="never-there")  # no change
        assert await tester.state.items("audit") == {"orders/a": {"total": 151}}
        assert len(await tester.state.get("seen", "big")) == 2


async def test_clear_reports_one_delete_per_key(tester: MotiaTester) -> None:
    async with tester:
        for key in ("x", "y", "z"):
            await _write(tester, op="set", group="tmp", key=key, value=1)
        await _write(tester, op="clear", group="tmp")
        assert await tester.state.items("audit") == {"tmp/x": 1, "tmp/y": 1, "tmp/z": 1}


async def test_many_changes_of_one_key_arrive_in_order(tester: MotiaTester) -> None:
    async with tester:
        for total in range(100, 110):
            await tester.post(
                "/write",
                json={"op": "set", "group": "orders", "key": "k", "value": {"total": total}},
            )
        await tester.wait_until_idle()
        seen = await tester.state.get("seen", "big")
        assert [entry[3]["total"] for entry in seen] == list(range(100, 110))
        assert [entry[2] for entry in seen][1:] == [{"total": t} for t in range(100, 109)]


STATE_LIST: dict[str, str] = {
    "steps/lister_step.py": """
        config = {"name": "Lister", "triggers": [{"type": "queue", "topic": "go"}]}

        def handler(data, ctx):
            ctx.state.set("g1", "a", 1)
            ctx.state.set("g2", "b", {"n": 1})
            after = ctx.state.update("g2", "b", [{"type": "merge", "value": {"m": 2}},
                                                 {"type": "decrement", "path": "n", "by": 3}])
            whole = ctx.state.update("g1", "a", [{"type": "set", "value": [1, 2]}])
            ctx.state.set("out", "result", {"groups": sorted(ctx.state.list_groups()),
                                            "g2": ctx.state.list("g2"),
                                            "after": after, "whole": whole})
    """,
    "steps/bad_update_step.py": """
        config = {"name": "BadUpdate", "triggers": [{"type": "queue", "topic": "bad",
                  "config": {"maxRetries": 0}}]}

        async def handler(data, ctx):
            await ctx.state.set("b", "s", "text")
            await ctx.state.update("b", "s", [{"type": "increment", "path": "n"}])
    """,
}


async def test_update_list_and_list_groups_without_state_triggers(tmp_path: Path) -> None:
    write_project(tmp_path, STATE_LIST)
    async with create_tester(tmp_path) as tester:
        await tester.emit({"topic": "go", "data": {}})
        await tester.wait_until_idle()
        await tester.emit({"topic": "bad", "data": {}})
        await tester.wait_until_idle(raise_errors=False)
        assert await tester.state.get("out", "result") == {
            "groups": ["g1", "g2"],
            "g2": [{"n": -2, "m": 2}],
            "after": {"n": -2, "m": 2},
            "whole": [1, 2],
        }
        [dead] = await tester.dead_letters()
        assert "state.update: field operations need a dict value, not str" in dead.error


FAILING_WRITER = """
    config = {"name": "FailingWriter", "triggers": [
        {"type": "queue", "topic": "write-then-fail", "config": {"maxRetries": 0}}]}

    async def handler(data, ctx):
        await ctx.state.set("orders", "z", {"total": 500})
        raise RuntimeError("fails after writing")
"""


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_failed_handler_s_write_and_its_trigger_go_together(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Where the queue holds state writes (PostgreSQL) the write and its change message
    are dropped with the failed attempt; elsewhere the write stays and so the change is
    delivered: never a change without its trigger."""
    project = write_project(tmp_path / "p", {**STEPS, "steps/failing_step.py": FAILING_WRITER})
    config = backend_config(backend, tmp_path, request)
    async with create_tester(project, config=config) as tester:
        await tester.emit({"topic": "write-then-fail", "data": {}})
        await tester.wait_until_idle(raise_errors=False)
        assert len(await tester.dead_letters()) == 1
        written = await tester.state.get("orders", "z")
        seen = await tester.state.get("seen", "big")
        if backend == "postgres":
            assert (written, seen) == (None, None)
        else:
            assert written == {"total": 500}
            assert seen == [["z", "set", None, {"total": 500}]]


FRAGILE_WATCHER = """
    from motia import state

    config = {"name": "Fragile", "triggers": [
        state(group="jobs", config={"maxRetries": 0, "type": "standard"})]}

    async def handler(change, ctx):
        if not await ctx.state.get("switch", "on"):
            raise RuntimeError("not yet")
        await ctx.state.set("done", change["key"], change["new_value"])
"""


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
async def test_a_change_whose_run_fails_is_a_dead_letter_that_redrives(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    project = write_project(tmp_path / "p", {**STEPS, "steps/fragile_step.py": FRAGILE_WATCHER})
    async with create_tester(project, config=backend_config(backend, tmp_path, request)) as tester:
        body = {"op": "set", "group": "jobs", "key": "j1", "value": 7}
        assert (await tester.post("/write", json=body)).status_code == 200
        await tester.wait_until_idle(raise_errors=False)
        [dead] = await tester.dead_letters()
        assert (dead.topic, dead.subscriber) == ("motia::state-changed", "Fragile")
        assert dead.data["key"] == "j1" and dead.group_id == "state:jobs:j1"
        await tester.state.set("switch", "on", True)  # straight to the store: no trigger
        assert await tester.runtime.queue.redrive() == 1
        tester.runtime.bus.notify_all()
        await tester.wait_until_idle()
        assert await tester.state.items("done") == {"j1": 7}
