"""The `quotes` flow, in memory: two Python steps and the Ruby audit."""

import asyncio
from pathlib import Path

from motia.testing import create_tester

PROJECT = Path(__file__).resolve().parent.parent


def test_a_quote_is_priced_and_audited() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            priced = tester.watch("quote.priced")
            response = await tester.post("/quotes", json={"item": "lamp", "quantity": 2})
            assert response.status_code == 202, response.text
            quote_id = response.json()["id"]
            await tester.wait_until_idle(timeout=20)

            assert (await tester.state.get("quotes", quote_id))["price"] == 9.0
            assert priced.events[0]["id"] == quote_id
            status = await tester.stream_item("quoteStatus", "quotes", quote_id)
            assert status is not None and status["status"] == "priced"
            audit = await tester.state.get("audit", quote_id)  # AuditTrail, in Ruby
            assert audit["item"] == "lamp" and audit["quantity"] == 2

            fetched = await tester.get(f"/quotes/{quote_id}")
            assert fetched.json()["price"] == 9.0

    asyncio.run(scenario())
