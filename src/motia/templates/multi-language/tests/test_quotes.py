"""The Python part of the project (the quotes flow), in memory."""

import asyncio
from pathlib import Path

from motia.testing import create_tester

PROJECT = Path(__file__).resolve().parent.parent


def test_a_quote_is_priced() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            priced = tester.watch("quote.priced")
            response = await tester.post("/quotes", json={"item": "lamp", "quantity": 2})
            assert response.status_code == 202, response.text
            quote_id = response.json()["id"]
            await tester.wait_until_idle()
            assert (await tester.state.get("quotes", quote_id))["price"] == 9.0
            assert priced.events[0]["id"] == quote_id

    asyncio.run(scenario())
