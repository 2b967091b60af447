"""Scheduled and cancellable emits in a running project, on the test kit's fake clock:
`delay`, `at` and `key` on `ctx.emit`, `ctx.cancel`, and the id `ctx.emit` returns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from motia.testing import create_mock_context, create_tester
from tests.conftest import write_project

PROJECT = {
    "steps/remind_step.py": """
        config = {
            "type": "api",
            "name": "Remind",
            "method": "POST",
            "path": "/remind",
            "emits": ["reminder.due"],
        }


        async def handler(req, ctx):
            body = req["body"]
            event = {"topic": "reminder.due", "data": {"user": body["user"]}}
            for field in ("delay", "at", "key"):
                if field in body:
                    event[field] = body[field]
            message_id = await ctx.emit(event)
            return {"status": 200, "body": {"id": message_id}}
    """,
    "steps/cancel_step.py": """
        config = {
            "type": "api",
            "name": "CancelReminder",
            "method": "POST",
            "path": "/cancel",
            "emits": [],
        }


        async def handler(req, ctx):
            body = req["body"]
            if "id" in body:
                cancelled = await ctx.cancel(body["id"])
            else:
                cancelled = await ctx.cancel(key=body["key"], topic=body.get("topic"))
            return {"status": 200, "body": {"cancelled": cancelled}}
    """,
    "steps/send_step.py": """
        config = {
            "type": "event",
            "name": "SendReminder",
            "subscribes": ["reminder.due"],
            "emits": [],
        }


        async def handler(data, ctx):
            sent = await ctx.state.get("sent", "all") or []
            now = ctx.utils.dates.now().isoformat()
            await ctx.state.set("sent", "all", [*sent, {"user": data["user"], "at": now}])
    """,
    "steps/plan_step.py": """
        config = {
            "type": "event",
            "name": "Plan",
            "subscribes": ["plan.start"],
            "emits": ["reminder.due"],
        }


        def handler(data, ctx):  # a sync handler: emit gives the id without await
            first = ctx.emit({"topic": "reminder.due", "data": {"user": "dropped"}, "delay": 5})
            assert isinstance(first, str) and first
            assert bool(ctx.cancel(first)) is True  # scheduled in this run: dropped
            ctx.emit({"topic": "reminder.due", "data": {"user": "v1"}, "delay": 5, "key": "k"})
            ctx.emit({"topic": "reminder.due", "data": {"user": "v2"}, "delay": 7, "key": "k"})
            ctx.emit({"topic": "reminder.due", "data": {"user": "now"}})  # classic emit
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, PROJECT)


async def sent(tester: object) -> list[dict[str, str]]:
    items: list[dict[str, str]] = await tester.runtime.state.get("sent", "all") or []  # type: ignore[attr-defined]
    return items


async def test_a_delayed_emit_fires_when_the_clock_reaches_it(project: Path) -> None:
    async with create_tester(project) as tester:
        response = await tester.post("/remind", json={"user": "ann", "delay": 60})
        message_id = response.json()["id"]
        assert isinstance(message_id, str) and message_id
        [listed] = await tester.runtime.queue.scheduled()
        assert (listed.id, listed.topic, listed.subscribers) == (
            message_id,
            "reminder.due",
            ["SendReminder"],
        )
        await tester.advance(59)
        assert await sent(tester) == []
        await tester.advance(1)
        assert await sent(tester) == [{"user": "ann", "at": "2025-01-01T00:01:00+00:00"}]
        assert await tester.runtime.queue.scheduled() == []


async def test_at_takes_an_iso_time_and_a_past_one_fires_at_once(project: Path) -> None:
    async with create_tester(project) as tester:
        # 02:00 at +01:00 is 01:00 UTC, an hour after the clock's start.
        await tester.post("/remind", json={"user": "later", "at": "2025-01-01T02:00:00+01:00"})
        await tester.post("/remind", json={"user": "past", "at": "2024-12-31T23:00:00Z"})
        await tester.advance(0)
        assert [s["user"] for s in await sent(tester)] == ["past"]
        await tester.advance(3599)
        assert [s["user"] for s in await sent(tester)] == ["past"]
        await tester.advance(1)
        assert (await sent(tester))[-1] == {"user": "later", "at": "2025-01-01T01:00:00+00:00"}


async def test_cancel_by_id_and_by_key(project: Path) -> None:
    async with create_tester(project) as tester:
        first = (await tester.post("/remind", json={"user": "a", "delay": 30})).json()["id"]
        await tester.post("/remind", json={"user": "b", "delay": 30, "key": "user-b"})
        await tester.post("/remind", json={"user": "c", "delay": 30})
        cancel = await tester.post("/cancel", json={"id": first})
        assert cancel.json() == {"cancelled": True}
        again = await tester.post("/cancel", json={"id": first})
        assert again.json() == {"cancelled": False}
        by_key = await tester.post("/cancel", json={"key": "user-b", "topic": "reminder.due"})
        assert by_key.json() == {"cancelled": True}
        await tester.advance(60)
        assert [s["user"] for s in await sent(tester)] == ["c"]


async def test_same_key_replaces_the_pending_emit(project: Path) -> None:
    async with create_tester(project) as tester:
        await tester.post("/remind", json={"user": "v1", "delay": 30, "key": "digest"})
        await tester.advance(10)
        await tester.post("/remind", json={"user": "v2", "delay": 30, "key": "digest"})
        await tester.advance(25)
        assert await sent(tester) == []  # v1 would have fired at 30 s: it was replaced
        await tester.advance(5)
        assert await sent(tester) == [{"user": "v2", "at": "2025-01-01T00:00:40+00:00"}]


async def test_a_sync_handler_gets_ids_and_cancels_within_its_run(project: Path) -> None:
    async with create_tester(project) as tester:
        await tester.emit({"topic": "plan.start", "data": {}})
        await tester.advance(10)
        assert [s["user"] for s in await sent(tester)] == ["now", "v2"]


async def test_a_bad_schedule_fails_the_run_naming_step_and_field(project: Path) -> None:
    async with create_tester(project) as tester:
        response = await tester.post("/remind", json={"user": "x", "delay": -1})
        assert response.status_code == 500
        errors = [r for r in tester.logs if r.get("level") == "error"]
        assert any("step 'Remind'" in str(r) and "'delay'" in str(r) for r in errors), errors


async def test_the_internal_api_lists_and_cancels(project: Path) -> None:
    token = "scheduled-emits-token-0123"
    json_body = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    async with create_tester(project, config={"workbench_token": token}) as tester:
        first = (await tester.post("/remind", json={"user": "a", "delay": 30})).json()["id"]
        await tester.post("/remind", json={"user": "b", "delay": 20, "key": "user-b"})
        listed = (await tester.get("/__motia/api/scheduled", headers=json_body)).json()["items"]
        assert [(e["key"], e["steps"], e["data"]) for e in listed] == [
            ("user-b", ["SendReminder"], {"user": "b"}),
            (None, ["SendReminder"], {"user": "a"}),
        ]
        assert listed[1]["id"] == first
        assert listed[1]["fireAt"] == tester.clock.time() + 30
        assert listed[1]["topic"] == "reminder.due" and listed[1]["traceId"]
        topic = await tester.get("/__motia/api/scheduled?topic=other", headers=json_body)
        assert topic.json() == {"items": []}

        gone = await tester.delete(f"/__motia/api/scheduled/{first}", headers=json_body)
        assert (gone.status_code, gone.json()) == (200, {"cancelled": 1})
        again = await tester.delete(f"/__motia/api/scheduled/{first}", headers=json_body)
        assert again.status_code == 404 and first in again.json()["error"]
        no_key = await tester.delete("/__motia/api/scheduled", headers=json_body)
        assert no_key.status_code == 400
        by_key = await tester.delete("/__motia/api/scheduled?key=user-b", headers=json_body)
        assert by_key.json() == {"cancelled": 1}
        assert (await tester.get("/__motia/api/scheduled", headers=json_body)).json() == {
            "items": []
        }
        await tester.advance(60)
        assert await sent(tester) == []

        # POST /emit schedules too, and answers the id to cancel it by.
        emitted = await tester.post(
            "/emit",
            json={"topic": "reminder.due", "data": {"user": "e"}, "delay": 5, "key": "via-emit"},
            headers=json_body,
        )
        assert emitted.status_code == 200, emitted.text
        [pending] = (await tester.get("/__motia/api/scheduled", headers=json_body)).json()["items"]
        assert (pending["id"], pending["key"]) == (emitted.json()["id"], "via-emit")
        bad = await tester.post(
            "/emit", json={"topic": "reminder.due", "delay": "soon"}, headers=json_body
        )
        assert bad.status_code == 400 and "'delay' must be a number" in bad.json()["error"]
        await tester.advance(5)
        assert await sent(tester) == [{"user": "e", "at": "2025-01-01T00:01:05+00:00"}]


async def test_the_mock_context_records_schedules_and_cancels() -> None:
    ctx = create_mock_context(step="Planner", now=datetime(2026, 1, 1, tzinfo=UTC))
    first = await ctx.emit({"topic": "t", "data": 1, "delay": 30})
    ctx.emit({"topic": "t", "data": 2, "at": "2026-01-01T01:00:00+00:00", "key": "k"})
    ctx.emit({"topic": "t", "data": 3})
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert ctx.emitted == [
        {"topic": "t", "data": 1, "fireAt": start + 30},
        {"topic": "t", "data": 2, "fireAt": start + 3600, "key": "k"},
        {"topic": "t", "data": 3},
    ]
    assert await ctx.cancel(first) is True
    assert await ctx.cancel(key="k", topic="other") is False
    assert await ctx.cancel(key="k") is True
    assert ctx.emitted == [{"topic": "t", "data": 3}]
    with pytest.raises(ValueError, match="step 'Planner': cancel takes a message id or key"):
        ctx.cancel()
