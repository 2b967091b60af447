import asyncio
from pathlib import Path

from motia.testing import create_tester

PROJECT = Path(__file__).resolve().parent.parent


def test_hello() -> None:
    async def scenario() -> None:
        async with create_tester(PROJECT) as tester:
            response = await tester.get("/hello", params={"name": "Ada"})
            assert response.status_code == 200
            assert response.json() == {"message": "Hello, Ada!"}

    asyncio.run(scenario())
