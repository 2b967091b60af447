"""The whole project, in memory: HTTP in, events through the queue, state out."""

import asyncio
from pathlib import Path

from motia.testing import create_tester

PROJECT = Path(__file__).resolve().parent.parent


def test_an_order_is_processed_and_the_customer_notified() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            processed = tester.watch("order.processed")

            response = await tester.post("/orders", json={"item": "book", "quantity": 2})
            assert response.status_code == 201, response.text
            order_id = response.json()["id"]

            # Returns once every queued event has been handled (re-raises handler errors).
            await tester.wait_until_idle()

            order = await tester.state.get("orders", order_id)
            assert order["status"] == "processed"
            assert order["total"] == 25.0
            assert [event["id"] for event in processed.events] == [order_id]
            notification = await tester.state.get("notifications", order_id)
            assert "2 x book" in notification["message"]

            fetched = await tester.get(f"/orders/{order_id}")
            assert fetched.json()["status"] == "processed"

    asyncio.run(scenario())


def test_an_invalid_order_is_refused_before_the_handler_runs() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            response = await tester.post("/orders", json={"item": "", "quantity": 0})
            assert response.status_code == 400
            assert {e["field"] for e in response.json()["errors"]} == {"item", "quantity"}

    asyncio.run(scenario())


def test_the_daily_report_counts_processed_orders() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            await tester.post("/orders", json={"item": "pen"})
            await tester.wait_until_idle()
            await tester.run_cron("DailyOrderReport")
            assert await tester.state.get("reports", "latest") == {"orders": 1, "processed": 1}

    asyncio.run(scenario())
