"""The `jobs` flow in memory, with the real Node and Ruby runners (`npm install` first):
TypeScript queues, Ruby runs with retries, JavaScript notifies, a Python cron cleans up."""

import asyncio
from pathlib import Path
from typing import Any

from motia.testing import MotiaTester, create_tester

PROJECT = Path(__file__).resolve().parent.parent


async def queue_job(tester: MotiaTester, **body: Any) -> str:
    response = await tester.post("/jobs", json={"kind": "thumbnails", "items": 4, **body})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def job(tester: MotiaTester, job_id: str) -> dict[str, Any]:
    response = await tester.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def notices(tester: MotiaTester) -> list[str]:
    return sorted(n["text"] for n in await tester.state.get_group("notifications"))


def test_a_job_runs_reports_progress_and_notifies_its_owner() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            job_id = await queue_job(tester)
            await tester.wait_until_idle(timeout=20)

            body = await job(tester, job_id)
            assert body["status"] == "done" and body["done"] == 4 and body["attempt"] == 1
            progress = await tester.stream_item("jobProgress", "jobs", job_id)
            assert progress is not None and (progress["done"], progress["total"]) == (4, 4)
            assert await notices(tester) == [f"job {job_id} (thumbnails) is done after 4 item(s)"]

    asyncio.run(scenario())


def test_a_failed_attempt_is_retried_and_the_last_one_is_dead_lettered() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            retried = await queue_job(tester, failAttempts=1)
            await tester.wait_until_idle(timeout=20)  # the backoff passes on the fake clock
            assert (await job(tester, retried))["status"] == "done"
            assert (await job(tester, retried))["attempt"] == 2

            doomed = await queue_job(tester, failAttempts=5)
            await tester.wait_until_idle(timeout=20, raise_errors=False)
            body = await job(tester, doomed)
            assert body["status"] == "failed" and body["lastError"] == "attempt 3 failed halfway"
            [letter] = await tester.dead_letters()
            assert letter.subscriber == "RunJob" and letter.attempts == 3

    asyncio.run(scenario())


def test_a_cancelled_job_never_runs() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            job_id = await queue_job(tester, items=3)
            cancelled = await tester.post(f"/jobs/{job_id}/cancel")
            assert cancelled.status_code == 200, cancelled.text
            await tester.wait_until_idle(timeout=20)
            assert (await job(tester, job_id))["status"] == "cancelled"
            again = await tester.post(f"/jobs/{job_id}/cancel")
            assert again.status_code == 409
            assert await notices(tester) == []

    asyncio.run(scenario())


def test_the_cron_cleans_up_finished_jobs_after_an_hour() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            job_id = await queue_job(tester)
            await tester.wait_until_idle(timeout=20)
            await tester.advance(30 * 60, timeout=20)  # three cron runs: too early
            assert (await tester.get(f"/jobs/{job_id}")).status_code == 200
            await tester.advance(40 * 60, timeout=20)
            assert (await tester.get(f"/jobs/{job_id}")).status_code == 404
            assert await tester.stream_item("jobProgress", "jobs", job_id) is None
            assert "1 finished job(s) cleaned up" in await notices(tester)

    asyncio.run(scenario())


def test_bad_input_gets_a_clear_answer() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            bad = await tester.post("/jobs", json={"kind": "video", "items": 0})
            assert bad.status_code == 400
            assert {e["field"] for e in bad.json()["errors"]} == {"kind", "items"}
            assert (await tester.get("/jobs/nope")).status_code == 404
            assert (await tester.post("/jobs/nope/cancel")).status_code == 404

    asyncio.run(scenario())
