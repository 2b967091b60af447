"""Readiness probe of the figure 12 servers."""

from typing import Any

config = {
    "type": "api",
    "name": "Hello",
    "method": "GET",
    "path": "/hello",
    "emits": [],
    "flows": ["bench"],
}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"status": 200, "body": {"ok": True}}
