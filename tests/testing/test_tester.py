"""The test kit's own tests: a project run in-process by `create_tester`."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from motia.errors import ProjectInvalid
from motia.testing import FlowFailed, create_tester
from tests.testing.projects import broken_cron, shop


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return shop(tmp_path)


async def test_full_flow_api_to_events_with_state_and_retries(project: Path) -> None:
    async with create_tester(project) as tester:
        created = tester.watch("order.created")
        charged = tester.watch("order.charged")
        followed = tester.watch("order.followed_up")

        response = await tester.post("/orders", json={"item": "book"})
        assert response.status_code == 201
        assert response.json() == {"id": "o-book", "item": "book"}
        assert response.headers["x-trace-id"]

        await tester.wait_until_idle()

        assert created.events == [{"id": "o-book", "item": "book"}]
        assert charged.count == 1
        assert followed.last["id"] == "o-book"
        assert await tester.state.get("orders", "o-book") == {
            "id": "o-book",
            "item": "book",
            "status": "charged",
        }
        assert await tester.state.get("stock", "book") == {"reservedFor": "o-book"}
        attempts = await tester.state.get("attempts", "o-book")
        assert [a["attempt"] for a in attempts] == [1, 2, 3]
        read = await tester.get("/orders/o-book")
        assert read.status_code == 200
        assert read.json()["status"] == "charged"
        assert (await tester.get("/orders/nope")).status_code == 404


async def test_retries_with_backoff_finish_in_well_under_a_second(project: Path) -> None:
    async with create_tester(project) as tester:
        charged = tester.watch("order.charged")
        start_clock = tester.clock.time()
        await tester.emit({"topic": "stock.reserved", "data": {"id": "o-1", "item": "pen"}})

        started = time.perf_counter()
        await tester.wait_until_idle()
        elapsed = time.perf_counter() - started

        assert elapsed < 1.0, f"took {elapsed:.3f} s of wall time"
        assert charged.events == [{"id": "o-1", "item": "pen"}]
        attempts = await tester.state.get("attempts", "o-1")
        assert [a["attempt"] for a in attempts] == [1, 2, 3]
        # Exponential backoff from 2 s with equal jitter: at least 1 s, then at least 2 s,
        # of fake time between the attempts.
        stamps = [a["at"] for a in attempts]
        assert stamps[0] < stamps[1] < stamps[2]
        assert tester.clock.time() - start_clock >= 3.0
        retried = [r for r in tester.logs if r["msg"].startswith("handler failed; retrying")]
        assert len(retried) == 2
        assert retried[0]["error"] == "ConnectionError: payment gateway down (attempt 1)"
        assert await tester.dead_letters() == []


async def test_delay_seconds_elapse_on_the_clock(project: Path) -> None:
    async with create_tester(project) as tester:
        followed = tester.watch("order.followed_up")
        before = tester.clock.now()
        await tester.emit({"topic": "order.charged", "data": {"id": "o-2"}})
        # Nothing runs by itself: the message waits 30 s of fake time.
        for _ in range(20):
            await asyncio.sleep(0)
        assert followed.count == 0

        started = time.perf_counter()
        await tester.wait_until_idle()
        assert time.perf_counter() - started < 1.0

        assert followed.count == 1
        assert (tester.clock.now() - before).total_seconds() == pytest.approx(30, abs=0.01)
        assert followed.last["at"] == "2025-01-01T00:00:30+00:00"


async def test_cron_fires_when_the_clock_moves(project: Path) -> None:
    async with create_tester(project) as tester:
        sweeps = tester.watch("sweep.done")
        await tester.wait_until_idle()
        assert sweeps.count == 0  # the clock has not moved: no tick yet

        tester.clock.advance(4 * 60)  # 00:04: still before the first */5 tick
        await tester.wait_until_idle()
        assert sweeps.count == 0

        started = time.perf_counter()
        tester.clock.advance(60)  # 00:05
        await tester.wait_until_idle()
        assert sweeps.events == [{"run": 1, "at": "2025-01-01T00:05:00+00:00"}]

        # advance() lets the time pass tick by tick: 00:10, 00:15, 00:20.
        await tester.advance(15 * 60)
        assert [e["at"][11:16] for e in sweeps.events] == ["00:05", "00:10", "00:15", "00:20"]
        assert await tester.state.get("sweep", "runs") == 4
        assert time.perf_counter() - started < 1.0

        # run_cron runs the job at once, whatever the schedule.
        trace_id = await tester.run_cron("Sweep")
        assert sweeps.count == 5
        assert sweeps.records[-1].trace_id == trace_id
        with pytest.raises(ValueError, match="cron steps: Sweep"):
            await tester.run_cron("Nope")


async def test_a_fifo_group_waits_for_its_retrying_head(project: Path) -> None:
    async with create_tester(project) as tester:
        await tester.emit({"topic": "ledger.entry", "data": {"n": 1, "flaky": True}})
        await tester.emit({"topic": "ledger.entry", "data": {"n": 2}})
        await tester.emit({"topic": "ledger.entry", "data": {"n": 3}})
        started = time.perf_counter()
        await tester.wait_until_idle()
        assert time.perf_counter() - started < 1.0
        # The head's retry waited 5-10 s of fake time; 2 and 3 waited behind it.
        assert await tester.state.get("ledger", "book") == [1, 2, 3]
        assert tester.clock.time() - 1735689600 >= 5


async def test_watch_captures_topics_from_the_moment_it_starts(project: Path) -> None:
    async with create_tester(project) as tester:
        await tester.emit({"topic": "untracked", "data": 0})
        everything = tester.watch("untracked")
        reserved = tester.watch("stock.reserved")
        for n in (1, 2, 3):
            await tester.emit({"topic": "untracked", "data": n})
        await tester.post("/orders", json={"item": "cup"})
        await tester.wait_until_idle()

        assert everything.events == [1, 2, 3]  # emitted before watch(): not captured
        assert everything.last == 3
        assert everything.count == 3
        assert list(everything) == [1, 2, 3]
        assert reserved.events == [{"id": "o-cup", "item": "cup"}]
        assert reserved.records[0].trace_id  # the flow's trace id
        everything.close()
        await tester.emit({"topic": "untracked", "data": 4})
        assert everything.count == 3


async def test_wait_until_idle_raises_the_error_of_a_dead_lettered_flow(project: Path) -> None:
    async with create_tester(project) as tester:
        event = await tester.emit({"topic": "doomed", "data": {"why": "bad card"}})
        started = time.perf_counter()
        with pytest.raises(ValueError, match="boom: bad card") as caught:
            await tester.wait_until_idle()
        assert time.perf_counter() - started < 1.0
        notes = "\n".join(getattr(caught.value, "__notes__", []))
        assert "step 'Doomed' on topic 'doomed'" in notes
        assert "after 3 attempt(s)" in notes

        letters = await tester.dead_letters()
        assert [(d.subscriber, d.attempts, d.trace_id) for d in letters] == [
            ("Doomed", 3, event.trace_id)
        ]
        assert tester.failures[0].exception is caught.value
        # Raised once: the next wait has nothing new to report.
        await tester.wait_until_idle()

        await tester.emit({"topic": "doomed", "data": {"why": "again"}})
        await tester.wait_until_idle(raise_errors=False)
        assert len(tester.failures) == 2
        await tester.wait_until_idle()  # collected already: not raised later


async def test_invalid_event_input_raises_flow_failed(project: Path) -> None:
    async with create_tester(project) as tester:
        await tester.emit({"topic": "order.created", "data": {"item": "no id"}})
        with pytest.raises(FlowFailed, match="ReserveStock") as caught:
            await tester.wait_until_idle()
        assert caught.value.failure.reason == "invalid input"
        assert caught.value.failure.exception is None


async def test_http_errors_are_real(project: Path) -> None:
    async with create_tester(project, config={"max_body_size": 100}) as tester:
        missing = await tester.post("/orders", json={})
        assert missing.status_code == 400
        body = missing.json()
        assert body["error"] == "Invalid request body"
        assert body["errors"] == [{"field": "item", "message": "'item' is a required property"}]

        empty = await tester.post("/orders", json={"item": ""})
        assert empty.status_code == 400

        assert (await tester.get("/nowhere")).status_code == 404
        assert (await tester.delete("/orders")).status_code == 405
        too_big = await tester.post("/orders", json={"item": "x" * 200})
        assert too_big.status_code == 413
        await tester.wait_until_idle()


async def test_stream_capture_and_items(project: Path) -> None:
    async with create_tester(project) as tester:
        status = tester.stream("orderStatus")
        await tester.post("/orders", json={"item": "lamp"})
        await tester.wait_until_idle()

        assert status.types == ["create", "update"]
        assert [e.data["status"] for e in status.events] == ["created", "charged"]
        assert status.last is not None and status.last.id == "o-lamp"
        assert await tester.stream_items("orderStatus", "orders") == [
            {"status": "charged", "id": "o-lamp"}
        ]
        assert await tester.stream_item("orderStatus", "orders", "o-lamp") == {
            "status": "charged",
            "id": "o-lamp",
        }
        with pytest.raises(Exception, match="no stream named 'nope'"):
            tester.stream("nope")


async def test_state_access_and_env(project: Path) -> None:
    assert "SHOP_REGION" not in os.environ

    async with create_tester(project, env={"SHOP_REGION": "eu"}) as tester:
        assert os.environ["SHOP_REGION"] == "eu"
        await tester.state.set("seed", "a", {"n": 1})
        assert await tester.state.get_group("seed") == [{"n": 1}]
        assert await tester.state.items("seed") == {"a": {"n": 1}}
        assert await tester.state.delete("seed", "a") == {"n": 1}
        assert await tester.state.get("seed", "a") is None

        await tester.emit({"topic": "audit", "data": {"id": "x"}})  # a sync handler
        await tester.wait_until_idle()
        assert await tester.state.get("audit", "x") == {"region": "eu"}

    assert "SHOP_REGION" not in os.environ


async def test_failed_cron_run_is_raised(tmp_path: Path) -> None:
    project = broken_cron(tmp_path)

    async with create_tester(project) as tester:
        with pytest.raises(RuntimeError, match="could not be built"):
            await tester.run_cron("Broken")
        await tester.wait_until_idle()  # raised already

        tester.clock.advance(60)  # the tick at 00:01 fails too
        with pytest.raises(RuntimeError, match="could not be built") as caught:
            await tester.wait_until_idle()
        assert "cron run failed" in "\n".join(caught.value.__notes__)


async def test_a_project_with_errors_does_not_start(tmp_path: Path) -> None:
    project = tmp_path / "bad"
    (project / "steps").mkdir(parents=True)
    (project / "steps" / "bad_step.py").write_text("config = {'type': 'api'}\n")

    with pytest.raises(ProjectInvalid):
        async with create_tester(project):
            pass


async def test_await_create_tester_and_close(project: Path) -> None:
    tester = await create_tester(project)
    assert tester.started
    assert (await tester.post("/orders", json={"item": "mug"})).status_code == 201
    await tester.close()
    assert not tester.started
    with pytest.raises(RuntimeError, match="not started"):
        await tester.get("/orders/o-mug")


async def test_unknown_config_keys_are_refused(project: Path) -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        await create_tester(project, config={"maxBodySize": 10})
