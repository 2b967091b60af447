"""The `orders` flow end to end, in memory: TypeScript → JavaScript → Ruby, read by Python.

`create_tester` starts the real Node and Ruby runners, so this needs `node`, `ruby` and
the npm packages (`npm install`)."""

import asyncio
from pathlib import Path

from motia.testing import create_tester

PROJECT = Path(__file__).resolve().parent.parent


def test_an_order_goes_through_all_four_languages() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            sent = tester.watch("order.sent")

            response = await tester.post("/orders", json={"item": "lamp", "quantity": 2})
            assert response.status_code == 201, response.text  # TypeScript
            order_id = response.json()["id"]
            trace_id = response.headers["x-trace-id"]

            # Returns once every queued event has been handled, whatever its language.
            await tester.wait_until_idle(timeout=20)

            order = await tester.state.get("orders", order_id)
            assert order["item"] == "lamp" and order["traceId"] == trace_id  # TypeScript
            assert order["status"] == "sent" and order["warehouse"] == "main"  # JavaScript
            assert sent.events == [
                {"id": order_id, "item": "lamp", "quantity": 2, "warehouse": "main"}
            ]
            audit = await tester.state.get("audit", order_id)  # Ruby
            assert audit["item"] == "lamp" and audit["quantity"] == 2
            assert audit["traceId"] == trace_id  # one trace across the languages

            fetched = await tester.get(f"/orders/{order_id}")  # Python
            assert fetched.status_code == 200
            assert fetched.json()["status"] == "sent" and fetched.json()["audited"] is True

            steps = {record.get("step") for record in tester.logs_for(trace_id)}
            assert {"CreateOrder", "NotifyWarehouse", "AuditTrail"} <= steps

    asyncio.run(scenario())


def test_the_zod_body_schema_refuses_an_invalid_order() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            response = await tester.post("/orders", json={"item": "", "quantity": 0})
            assert response.status_code == 400
            assert {e["field"] for e in response.json()["errors"]} == {"item", "quantity"}
            assert await tester.state.get_group("orders") == []

    asyncio.run(scenario())
