"""The `batches` pipeline end to end, in memory, with the real Node runner for the
JavaScript API step and the TypeScript formatter (`npm install` first)."""

import asyncio
from pathlib import Path
from typing import Any

from motia.testing import MotiaTester, create_tester

PROJECT = Path(__file__).resolve().parent.parent

SMALL = [
    {"id": "r1", "amount": 1200, "country": "FR"},
    {"id": "r2", "amount": 300.5, "country": "DE"},
    {"id": "r3", "amount": 800, "country": "FR"},
]
LARGE = [{"id": f"r{n}", "amount": 4000, "country": "NL"} for n in range(4)]


async def submit(tester: MotiaTester, records: list[dict[str, Any]]) -> str:
    response = await tester.post("/batches", json={"records": records})
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "checking"
    return str(response.json()["id"])


async def batch(tester: MotiaTester, batch_id: str) -> dict[str, Any]:
    response = await tester.get(f"/batches/{batch_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_small_batch_is_checked_in_parallel_approved_and_reported() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            checked = tester.watch("batch.checked")
            batch_id = await submit(tester, SMALL)
            await tester.wait_until_idle(timeout=20)

            assert checked.count == 1  # three checks, one join
            body = await batch(tester, batch_id)
            assert body["status"] == "reported" and body["total"] == 2300.5
            assert body["report"] == [
                "3 record(s), 2,300.50 in all",
                "FR: 2,000.00 in 2 record(s)",
                "DE: 300.50 in 1 record(s)",
            ]
            live = await tester.stream_item("batchStatus", "batches", batch_id)
            assert live is not None and live["status"] == "reported"
            assert live["report"] == body["report"]

    asyncio.run(scenario())


def test_a_failed_check_rejects_the_batch_with_every_problem() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            summarized = tester.watch("batch.summarized")
            records = [*SMALL, {"id": "r1", "amount": 9000, "country": "france"}]
            batch_id = await submit(tester, records)
            await tester.wait_until_idle(timeout=20)

            body = await batch(tester, batch_id)
            assert body["status"] == "rejected"
            assert body["problems"] == [
                "record r1: country 'france' is not a two-letter code",
                "record r1 appears 2 times",
                "record r1: 9000 is above the limit of 5000",
            ]
            assert summarized.count == 0

    asyncio.run(scenario())


def test_the_join_runs_once_even_when_a_check_result_comes_twice() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            checked = tester.watch("batch.checked")
            batch_id = await submit(tester, SMALL)
            await tester.wait_until_idle(timeout=20)
            # A duplicate delivery of one branch's result, after the join.
            await tester.emit(
                {
                    "topic": "batch.check.done",
                    "data": {"batchId": batch_id, "check": "limits", "problems": []},
                    "messageGroupId": batch_id,
                }
            )
            await tester.wait_until_idle(timeout=20)
            assert checked.count == 1
            assert (await batch(tester, batch_id))["status"] == "reported"

    asyncio.run(scenario())


def test_a_large_batch_waits_for_a_reviewer() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            batch_id = await submit(tester, LARGE)
            await tester.advance(1, timeout=20)  # checks and routing, not the deadline
            assert (await batch(tester, batch_id))["status"] == "awaiting review"

            review = {"approved": True, "reviewer": "ana"}
            decided = await tester.post(f"/batches/{batch_id}/review", json=review)
            assert decided.status_code == 202, decided.text
            await tester.wait_until_idle(timeout=20)

            body = await batch(tester, batch_id)
            assert body["status"] == "reported" and body["reviewer"] == "ana"
            again = await tester.post(f"/batches/{batch_id}/review", json=review)
            assert again.status_code == 409

    asyncio.run(scenario())


def test_a_review_nobody_makes_expires_at_the_deadline() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            summarized = tester.watch("batch.summarized")
            batch_id = await submit(tester, LARGE)
            await tester.advance(3599, timeout=20)
            assert (await batch(tester, batch_id))["status"] == "awaiting review"
            await tester.advance(2, timeout=20)  # past the one-hour deadline
            assert (await batch(tester, batch_id))["status"] == "expired"
            assert summarized.count == 0

    asyncio.run(scenario())


def test_bad_input_gets_a_clear_answer() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            empty = await tester.post("/batches", json={"records": []})
            assert empty.status_code == 400
            assert empty.json()["errors"][0]["field"] == "records"
            assert (await tester.get("/batches/nope")).status_code == 404
            review = {"approved": True, "reviewer": "ana"}
            assert (await tester.post("/batches/nope/review", json=review)).status_code == 404

    asyncio.run(scenario())
